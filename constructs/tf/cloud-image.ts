import { Construct } from 'constructs';
import { DownloadFile } from './generated/providers/proxmox/download-file';
import { escapeTerraformTemplate } from './terraform-template';

/** Properties of a {@link ProxmoxDownload}. */
export interface ProxmoxDownloadProps {
  /** Proxmox node whose datastore receives the file. */
  readonly nodeName: string;
  /** Datastore the file lands on; it needs the `import` (cloud images) or `vztmpl` (LXC templates) content type. */
  readonly datastoreId: string;
  /** `import` for a cloud image that VMs import as a disk, `vztmpl` for an LXC template. */
  readonly contentType: 'import' | 'vztmpl';
  /** Where Proxmox downloads the file from (http or https). */
  readonly url: string;
  /** The file name on the datastore. */
  readonly fileName: string;
  /**
   * Expected checksum (hex); Proxmox rejects a download that does not match.
   *
   * @default - not verified
   */
  readonly checksum?: string;
  /**
   * Algorithm of `checksum`, e.g. `sha256`; give it together with `checksum`.
   *
   * @default - none
   */
  readonly checksumAlgorithm?: string;
}

/**
 * A file Proxmox downloads onto one node's datastore (`proxmox_download_file`): a cloud image or LXC template.
 * One per node and file, shared by every host on that node.
 */
export class ProxmoxDownload extends Construct {
  /** The `proxmox_download_file` resource (id `Resource`); escape hatch: `resource.addOverride()`. */
  public readonly resource: DownloadFile;
  /** The file's volume id, e.g. `local:import/ubuntu.qcow2`. */
  public readonly fileId: string;

  constructor(scope: Construct, id: string, props: ProxmoxDownloadProps) {
    super(scope, id);
    this.resource = new DownloadFile(this, 'Resource', {
      nodeName: props.nodeName,
      datastoreId: props.datastoreId,
      contentType: props.contentType,
      // Text, never a template: a `${…}` in a URL must not reach Terraform as an interpolation.
      url: escapeTerraformTemplate(props.url),
      fileName: escapeTerraformTemplate(props.fileName),
      checksum: props.checksum === undefined ? undefined : escapeTerraformTemplate(props.checksum),
      checksumAlgorithm: props.checksumAlgorithm,
      // A changed upstream file must not silently replace the disks VMs were imported from.
      overwrite: false,
    });
    this.fileId = this.resource.id;
  }
}
