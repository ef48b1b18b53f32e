// The only door to the app: its commands and its session events. The
// capability file allows exactly these commands and nothing else.

export const available = () => Boolean(window.__TAURI__);

/// A command's refusal: `kind` to branch on (`invalid_input`,
/// `not_connected`, `server`, `not_found`, `not_allowed`, `storage`), and
/// the sentence the operator reads, which is also what it prints as.
export class CommandError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'CommandError';
    this.kind = kind;
  }

  toString() {
    return this.message;
  }
}

export async function invoke(command, args) {
  try {
    return await window.__TAURI__.core.invoke(command, args);
  } catch (error) {
    if (error && typeof error === 'object' && typeof error.message === 'string') {
      throw new CommandError(error.kind ?? 'unknown', error.message);
    }
    throw new CommandError('unknown', String(error));
  }
}

export function listen(event, handler) {
  return window.__TAURI__.event.listen(event, handler);
}
