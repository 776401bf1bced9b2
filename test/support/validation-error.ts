import { SiteSpec, ValidationError, defineSite } from '../../constructs';

/** Runs defineSite() and returns the ValidationError it throws (failing the test when it throws nothing or something else). */
export function validationErrorOf(spec: SiteSpec): ValidationError {
  let thrown: unknown;
  try {
    defineSite(spec);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ValidationError);
  return thrown as ValidationError;
}
