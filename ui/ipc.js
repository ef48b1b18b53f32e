// The only door to the app: its commands and its session events. The
// capability file allows exactly these commands and nothing else.

export const available = () => Boolean(window.__TAURI__);

export function invoke(command, args) {
  return window.__TAURI__.core.invoke(command, args);
}

export function listen(event, handler) {
  return window.__TAURI__.event.listen(event, handler);
}
