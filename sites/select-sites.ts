import { SitePlan } from '../constructs';

// Shared by both apps (infra/main.ts, k8s/main.ts), which must not import each other.

/**
 * The sites an app synthesizes: all of them, or the comma-separated names in `selection` (the `SITE` environment
 * variable). An unknown name is an error listing the known ones.
 */
export function selectSites(sites: readonly SitePlan[], selection: string | undefined): readonly SitePlan[] {
  if (!selection) {
    return sites;
  }
  const wanted = selection.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = wanted.filter((name) => !sites.some((site) => site.name === name));
  if (unknown.length > 0) {
    throw new Error(`SITE: ${JSON.stringify(selection)} — expected site names among ${sites.map((s) => s.name).join(', ')} (unknown: ${unknown.join(', ')})`);
  }
  return sites.filter((site) => wanted.includes(site.name));
}

/** Runs an app's main, printing only the message of an error (it lists every problem), and fails the process. */
export function runMain(main: () => void): void {
  try {
    main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
