import * as ipaddr from 'ipaddr.js';

/** True for a strict dotted-decimal IPv4 address (four parts, no leading zeros, each 0–255). */
export function isIpv4(value: unknown): value is string {
  return typeof value === 'string' && ipaddr.IPv4.isValidFourPartDecimal(value);
}

/**
 * An IPv4 network in CIDR notation, e.g. `192.168.168.0/24`.
 */
export class Ipv4Cidr {
  /**
   * Parses `a.b.c.d/n`; returns undefined when the text is not valid CIDR notation.
   */
  public static tryParse(value: unknown): Ipv4Cidr | undefined {
    if (typeof value !== 'string') {
      return undefined;
    }
    const [address, prefix, ...rest] = value.split('/');
    if (rest.length > 0 || !isIpv4(address) || prefix === undefined || !/^\d{1,2}$/.test(prefix)) {
      return undefined;
    }
    const prefixLength = Number(prefix);
    if (prefixLength > 32) {
      return undefined;
    }
    return new Ipv4Cidr(address, prefixLength);
  }

  private constructor(
    /** The address as written (may have host bits set). */
    public readonly address: string,
    /** The prefix length (0–32), e.g. 24 for a `/24`. */
    public readonly prefixLength: number,
  ) {}

  /** The network address (host bits cleared). */
  public get networkAddress(): string {
    return ipaddr.IPv4.networkAddressFromCIDR(`${this.address}/${this.prefixLength}`).toString();
  }

  /** The broadcast address (host bits set); never a usable host address on networks larger than a `/31`. */
  public get broadcastAddress(): string {
    return ipaddr.IPv4.broadcastAddressFromCIDR(`${this.address}/${this.prefixLength}`).toString();
  }

  /** True when the address as written is the network address (no host bits set). */
  public get isNetworkAddress(): boolean {
    return this.address === this.networkAddress;
  }

  /** The network in canonical form, `<networkAddress>/<prefixLength>` (host bits cleared). */
  public toString(): string {
    return `${this.networkAddress}/${this.prefixLength}`;
  }

  /** True when `ip` is a valid IPv4 address inside this network (network and broadcast addresses included). */
  public contains(ip: string): boolean {
    return isIpv4(ip) && ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parse(this.networkAddress), this.prefixLength);
  }

  /** True when `ip` may be given to a host: inside the network and neither its network nor broadcast address. */
  public isUsableHostAddress(ip: string): boolean {
    if (!this.contains(ip)) {
      return false;
    }
    return this.prefixLength >= 31 || (ip !== this.networkAddress && ip !== this.broadcastAddress);
  }

  /** True when the two networks share any address, e.g. a pod CIDR that would shadow part of the LAN. */
  public overlaps(other: Ipv4Cidr): boolean {
    return this.contains(other.networkAddress) || other.contains(this.networkAddress);
  }
}
