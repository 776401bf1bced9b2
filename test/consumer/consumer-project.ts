import { spawnSync } from 'child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

/**
 * A project of a library user, as `cdktf init --template=typescript` makes one, with the library installed from the
 * tarball `npm pack` makes. No network: the peer dependencies and tools are linked from this repository's
 * node_modules (the versions package.json pins), the tarball is unpacked into node_modules as npm would.
 */

export const REPO = resolve(__dirname, '../..');
const MODULES = join(REPO, 'node_modules');
/** cdktf-cli 0.21.0 keeps its init templates in its bundle. */
const TEMPLATE = join(MODULES, 'cdktf-cli/bundle/templates/typescript');

/** What the user installs beside the library: the peer dependencies, and what `cdktf init` installs. */
const LINKED_PACKAGES = ['cdktf', 'constructs', 'cdk8s', 'cdk8s-plus-29', '@cdktf/provider-random', '@cdktf/provider-tls', 'yaml', 'ipaddr.js',
  'cdktf-cli', 'typescript', '@types/node', '@types/jest'];

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs `command` (through the shell) in `cwd`, bounded by `timeoutMs`. */
export function run(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): CommandResult {
  const started = Date.now();
  const result = spawnSync(command, { shell: true, cwd, env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  if (result.error || result.signal) {
    throw new Error(`${command} (in ${cwd}) did not finish: ${result.error?.message ?? result.signal} after ${Date.now() - started} ms\n${result.stdout}${result.stderr}`);
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
}

/**
 * Compiles the published part of the library (constructs/) into `workDir` and packs it with `npm pack`, as
 * `prepack` (`npm run build`) would, without rebuilding the shared lib/ other suites read. Returns the tarball.
 */
export function packLibrary(workDir: string): string {
  const packageDir = join(workDir, 'package-source');
  mkdirSync(packageDir, { recursive: true });
  const tsc = run(`${JSON.stringify(process.execPath)} ${JSON.stringify(join(MODULES, 'typescript/bin/tsc'))} -p test/consumer/tsconfig.pack.json --outDir ${JSON.stringify(join(packageDir, 'lib'))}`,
    REPO, process.env, 300_000);
  if (tsc.status !== 0) {
    throw new Error(`compiling the library failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  for (const file of ['package.json', 'README.md', 'LICENSE']) {
    cpSync(join(REPO, file), join(packageDir, file));
  }
  // The shell scripts the library reads at synthesis (scripts/copy-assets.js does the same for lib/).
  for (const assets of assetDirectories(join(REPO, 'constructs'))) {
    cpSync(assets, join(packageDir, 'lib', relative(REPO, assets)), { recursive: true });
  }
  const pack = run(`npm pack --ignore-scripts --json --pack-destination ${JSON.stringify(workDir)}`, packageDir, { ...process.env, npm_config_offline: 'true' }, 120_000);
  if (pack.status !== 0) {
    throw new Error(`npm pack failed:\n${pack.stderr}`);
  }
  return join(workDir, (JSON.parse(pack.stdout) as { filename: string }[])[0].filename);
}

function assetDirectories(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) {
      return [];
    }
    return name === 'assets' ? [path] : assetDirectories(path);
  });
}

/** `node_modules/.bin` links for a package's `bin` entries, executable, as npm makes them. */
function linkBins(projectDir: string, packageName: string): void {
  const packageDir = join(projectDir, 'node_modules', packageName);
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  const bins = typeof manifest.bin === 'string' ? { [packageName]: manifest.bin } : manifest.bin ?? {};
  for (const [name, target] of Object.entries(bins)) {
    const file = join(packageDir, target);
    if (!existsSync(file)) {
      throw new Error(`${packageName}: package.json bin.${name}: ${JSON.stringify(target)} — expected a file in the package`);
    }
    chmodSync(file, 0o755);
    symlinkSync(relative(join(projectDir, 'node_modules/.bin'), file), join(projectDir, 'node_modules/.bin', name));
  }
}

/**
 * Creates the project in `projectDir` from cdktf-cli's own TypeScript template (tsconfig.json, cdktf.json,
 * package.json, jest setup, .gitignore) and installs `tarball` into it.
 *
 * One difference from `cdktf init`: the template's app is `npx ts-node main.ts`, and ts-node is not among this
 * repository's dependencies, so the app compiles with the template's own tsconfig (`npx tsc`, its `build` script)
 * and runs `node main.js`: the same type check, then the same program.
 */
export function createConsumerProject(projectDir: string, tarball: string): void {
  mkdirSync(projectDir, { recursive: true });
  const base = projectDir.split('/').pop()!;
  for (const entry of readdirSync(TEMPLATE)) {
    if (entry === '.hooks.sscaff.js') {
      continue;
    }
    // sscaff's file-name escape: `{{}}.gitignore` is written as `.gitignore`.
    const text = (path: string) => readFileSync(path, 'utf8').replace(/\{\{ \$base \}\}/g, base).replace(/\{\{projectId\}\}/g, 'consumer-project-test')
      .replace(/\{\{sendCrashReports\}\}/g, 'false').replace(/\{\{futureFlags\}\}/g, '');
    const source = join(TEMPLATE, entry);
    const target = join(projectDir, entry.replace('{{}}', ''));
    if (statSync(source).isDirectory()) {
      cpSync(source, target, { recursive: true });
    } else {
      writeFileSync(target, text(source));
    }
  }
  const cdktfJson = JSON.parse(readFileSync(join(projectDir, 'cdktf.json'), 'utf8'));
  writeFileSync(join(projectDir, 'cdktf.json'), JSON.stringify({ ...cdktfJson, app: 'npx tsc && node main.js' }, null, 2));
  const packageJson = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8'));
  const pinned = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).devDependencies as Record<string, string>;
  const versions = (names: string[]) => Object.fromEntries(names.map((name) => [name, pinned[name] ?? '*']));
  writeFileSync(join(projectDir, 'package.json'), JSON.stringify({
    ...packageJson,
    // What `cdktf init` and the README's `npm install` line put there.
    dependencies: { 'proxmox-k3s-ha': `file:${tarball}`, ...versions(['cdktf', 'constructs', 'cdk8s', 'cdk8s-plus-29', '@cdktf/provider-random', '@cdktf/provider-tls']) },
    devDependencies: versions(['@types/jest', '@types/node', 'typescript', 'cdktf-cli']),
  }, null, 2));

  const modules = join(projectDir, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  for (const name of LINKED_PACKAGES) {
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(join(MODULES, name), join(modules, name));
  }
  const installed = join(modules, 'proxmox-k3s-ha');
  mkdirSync(installed);
  const untar = run(`tar -xzf ${JSON.stringify(tarball)} -C ${JSON.stringify(installed)} --strip-components=1`, projectDir, process.env, 60_000);
  if (untar.status !== 0) {
    throw new Error(`unpacking ${tarball} failed: ${untar.stderr}`);
  }
  for (const name of ['proxmox-k3s-ha', 'typescript', 'cdktf-cli']) {
    linkBins(projectDir, name);
  }
}

/** The environment the user's commands run in: offline, no telemetry or update checks, no colours. */
export function consumerEnv(projectDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env).filter((key) => key.startsWith('PROXMOX_K3S_HA_') || key.startsWith('CDKTF_') || key.startsWith('CDK8S_') || key.startsWith('TF_'))) {
    delete env[name];
  }
  const terraformrc = join(projectDir, '.terraformrc');
  if (!existsSync(terraformrc)) {
    // An empty CLI configuration: terraform (which cdktf asks for its version) warns when the default one is missing.
    writeFileSync(terraformrc, '');
  }
  return {
    ...env, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1', NO_COLOR: '1', FORCE_COLOR: '0', npm_config_offline: 'true', npm_config_update_notifier: 'false',
    TF_CLI_CONFIG_FILE: terraformrc, ...extra,
  };
}

/** A fenced ```ts block of README.md's "Use it from npm" section whose first line is `// <file>`. */
export function readmeFile(file: string): { source: string; text: string } {
  const readme = join(REPO, 'README.md');
  const section = readFileSync(readme, 'utf8').split(/^## /m).find((part) => part.startsWith('Use it from npm'));
  const block = section && [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]).find((code) => code.startsWith(`// ${file}\n`));
  if (block) {
    return { source: readme, text: block };
  }
  throw new Error(`no \`\`\`ts block starting "// ${file}" in the "## Use it from npm" section of ${readme}`);
}
