// The only door to the app: its commands and its session events. The
// capability file allows exactly these commands and nothing else.

export const available = () => Boolean(window.__TAURI__);

/// A command's refusal: the app rejects with `{ kind, message }`, where
/// `kind` is one of `invalid_input`, `not_connected`, `server`, `not_found`,
/// `not_allowed`, `storage` (see `src-tauri/src/error.rs`) and `message` is
/// the sentence the operator reads. It reads as just the sentence, so
/// `${error}` and `String(error)` show it.
export class CommandError extends Error {
  // Class fields are defined, not assigned: they work with the app's frozen
  // prototypes, where assigning an inherited `name` would throw.
  name = 'CommandError';
  kind;

  constructor(kind, message, rejection) {
    super(message, { cause: rejection });
    this.kind = kind;
  }

  /// What the app refused with, whichever shape it came in.
  static from(rejection) {
    if (rejection instanceof CommandError) return rejection;
    if (typeof rejection === 'string') return new CommandError('unknown', rejection, rejection);
    if (rejection && typeof rejection === 'object' && typeof rejection.message === 'string' && !(rejection instanceof Error)) {
      const kind = typeof rejection.kind === 'string' && rejection.kind ? rejection.kind : 'unknown';
      return new CommandError(kind, rejection.message, rejection);
    }
    // Anything else (a failure of the bridge itself) reads as it always did.
    return new CommandError('unknown', String(rejection), rejection);
  }

  toString() {
    return this.message;
  }
}

export async function invoke(command, args) {
  try {
    return await window.__TAURI__.core.invoke(command, args);
  } catch (rejection) {
    throw CommandError.from(rejection);
  }
}

export function listen(event, handler) {
  return window.__TAURI__.event.listen(event, handler);
}
