/**
 * An error as one line for a warning or an outcome's reason, with its code (`ECONNREFUSED`) when the
 * message lacks it. Anything thrown that is not an Error is shown as a string.
 */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code !== undefined && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}
