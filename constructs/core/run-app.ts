import { ValidationError } from './problems';
import { UnsafeChangeError } from './unsafe-changes';

/** True for the errors that describe the user's input completely in their message: stack frames add nothing. */
function isInputError(error: unknown): error is ValidationError | UnsafeChangeError {
  return error instanceof ValidationError || error instanceof UnsafeChangeError;
}

function reportInputError(error: ValidationError | UnsafeChangeError): void {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}

/**
 * Runs a cdktf (or cdk8s) app's main function so that a site's mistakes reach the person running `cdktf synth` or
 * `node main.js` as one clean list: a {@link ValidationError} (from `defineSite`) or an {@link UnsafeChangeError}
 * (from `app.synth()`, against the previous synthesis) prints its message once on stderr, without stack frames,
 * and the process exits with status 1. Any other error is rethrown untouched, with its stack: it is a bug, not an
 * input mistake.
 *
 * @example
 * runApp(() => {
 *   const site = defineSite(spec);
 *   const app = new App();
 *   new SiteStack(app, site.name, { site, serverManifests: k3sServerManifests(site) });
 *   app.synth();
 * });
 */
export function runApp(main: () => void | Promise<void>): void {
  try {
    const result = main();
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (!isInputError(error)) {
          throw error;
        }
        reportInputError(error);
      });
    }
  } catch (error) {
    if (!isInputError(error)) {
      throw error;
    }
    reportInputError(error);
  }
}
