import { Construct } from 'constructs';
import { SitePlan } from '../site/plan';
import { HostKind } from '../site/spec';
import { ProxmoxDownload } from './cloud-image';

/** The cloud image (VMs) and LXC template (containers) downloaded once per Proxmox node that needs them. */
export class SiteImageDownloads {
  private readonly downloads = new Map<string, ProxmoxDownload>();

  constructor(private readonly scope: Construct, private readonly site: SitePlan) {}

  /** The file id of the image for hosts of `kind` on `node`, downloading it there on first use. */
  public fileIdOn(node: string, kind: HostKind): string {
    const key = `${kind}-${node}`;
    let download = this.downloads.get(key);
    if (!download) {
      const proxmox = this.site.proxmox;
      const file = kind === HostKind.VM ? proxmox.cloudImage : proxmox.lxcTemplate!;
      download = new ProxmoxDownload(this.scope, kind === HostKind.VM ? `CloudImage-${node}` : `LxcTemplate-${node}`, {
        nodeName: node,
        datastoreId: proxmox.datastores.images,
        contentType: kind === HostKind.VM ? 'import' : 'vztmpl',
        url: file.url,
        fileName: file.fileName,
        checksum: file.checksum,
        checksumAlgorithm: file.checksumAlgorithm,
      });
      this.downloads.set(key, download);
    }
    return download.fileId;
  }
}
