export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

/** Length in characters (code points), so a password of emoji is measured as a person sees it. */
const lengthOf = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

/** Why a new password is unacceptable, or undefined when it is fine. */
export function passwordProblem(password: string): string | undefined {
  // Guard before counting: a megabyte of input must not cost a megabyte of iteration.
  if (password.length > MAX_PASSWORD_LENGTH * 2)
    return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  const length = lengthOf(password);
  if (length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}

/** A password that cannot be anyone's: too long to have passed `passwordProblem`. */
export const isImplausiblePassword = (password: string): boolean =>
  password.length > MAX_PASSWORD_LENGTH * 2;
