// The keyboard: which key does what, in one place. Each key sends one of
// the intents main.js hands in (the same a click sends); nothing here
// talks to the app or draws anything but the list of keys.

/// The keys, as the help overlay lists them.
export const KEYS = [
  ['/ or Ctrl+F', 'Search the contacts'],
  ['↑ ↓, Page Up/Down', 'Move through the list'],
  ['Home, End', 'First or last contact'],
  ['a–z, 0–9', 'Jump to the next name starting with what you type'],
  ['Enter', 'Open the selected contact'],
  ['Shift+B', 'Block or unblock the selected contact'],
  ['Space', 'Mark or unmark the selected contact'],
  ['Ctrl+A', 'Mark everyone the list shows'],
  ['Escape', 'Clear the marks (in the list)'],
  ['Escape', 'Back to the list from the contact'],
  ['Ctrl+Tab, Ctrl+Shift+Tab', 'Next or previous tab'],
  ['Ctrl+1 … Ctrl+9', 'Show the first to ninth account'],
  ['?', 'Show these keys'],
];

/// Type-ahead: letters typed within this long of each other form one prefix.
const TYPE_AHEAD_MS = 800;

/// Wires the window's keys to `intents`:
/// `{ active(): bool, list, contactsShown(): bool, focusSearch(), openDetail(),
///    inDetail(el): bool, nextTab(step), showHelp(), switchAccount(n) }`.
export function installKeys(intents) {
  // Nothing typed yet: the first key starts afresh, even in the page's
  // first moments (event times count from its load).
  const typed = { text: '', at: -Infinity };
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const action = actionFor(event, intents, typed);
    if (action) {
      event.preventDefault();
      action();
    }
  });
}

/// The action a key asks for here, or null to leave the key alone.
function actionFor(event, intents, typed) {
  const { key } = event;
  const ctrl = event.ctrlKey || event.metaKey;
  if (document.querySelector('dialog[open]')) return null;
  // Accounts switch from any screen, the link screen too.
  if (ctrl && !event.altKey && !event.shiftKey && /^[1-9]$/.test(key)) {
    return () => intents.switchAccount(Number(key));
  }
  if (!intents.active()) return null;
  // Shift+Tab may arrive as GTK's ISO_Left_Tab, so the key's code is read too.
  const tab = key === 'Tab' || event.code === 'Tab' || event.keyCode === 9;
  if (ctrl && !event.altKey && tab) return () => intents.nextTab(event.shiftKey ? -1 : 1);
  if (ctrl && !event.altKey && (key === 'PageDown' || key === 'PageUp')) {
    return () => intents.nextTab(key === 'PageDown' ? 1 : -1);
  }
  if (ctrl && !event.altKey && (key === 'f' || key === 'F')) return () => intents.focusSearch();
  if (ctrlA(event) && intents.contactsShown() && intents.list.hasFocus()) return () => intents.list.markAll();
  if (ctrl || event.altKey || editable(event.target)) return null;
  if (key === '/') return () => intents.focusSearch();
  if (key === '?') return () => intents.showHelp();
  if (!intents.contactsShown()) return null;
  if (key === 'B') return () => intents.list.toggleSelected();
  if (key === 'Escape' && intents.inDetail(event.target)) return () => intents.list.focus();
  if (!intents.list.hasFocus()) return null;
  return listAction(event, intents, typed);
}

function listAction(event, { list, openDetail }, typed) {
  const { key } = event;
  const onButton = event.target.closest?.('button');
  switch (key) {
    case 'ArrowDown':
      return () => list.moveBy(1);
    case 'ArrowUp':
      return () => list.moveBy(-1);
    case 'PageDown':
      return () => list.moveBy(list.pageRows());
    case 'PageUp':
      return () => list.moveBy(-list.pageRows());
    case 'Home':
      return () => list.moveTo(0);
    case 'End':
      return () => list.moveTo(list.total - 1);
    case 'Enter':
      return onButton ? null : () => openDetail();
    case 'Escape':
      return list.marked.size > 0 ? () => list.clearMarks() : null;
    default:
      return typeAhead(key, list, typed, event.timeStamp);
  }
}

function ctrlA(event) {
  return (event.ctrlKey || event.metaKey) && !event.altKey && (event.key === 'a' || event.key === 'A');
}

/// A letter or digit extends the prefix (a space too, inside one); a space
/// on its own marks the selected row.
function typeAhead(key, list, typed, now) {
  const fresh = now - typed.at > TYPE_AHEAD_MS;
  if (key === ' ' && fresh) return () => list.toggleMarkSelected();
  const letter = /[\p{L}\p{N}]/u.test(key) || (key === ' ' && !fresh);
  if (key.length !== 1 || !letter) return null;
  typed.text = (fresh ? '' : typed.text) + key;
  typed.at = now;
  const prefix = typed.text;
  return async () => {
    const index = await list.findPrefix(prefix);
    // A later key started another search; its answer wins.
    if (index >= 0 && typed.text === prefix) list.moveTo(index);
  };
}

/// Fields where keys are typing, not commands.
function editable(el) {
  const typing = 'input:not([type="checkbox"], [type="radio"], [type="button"], [type="submit"], [type="file"])';
  return Boolean(el?.closest?.(`${typing}, textarea, select, [contenteditable=""], [contenteditable="true"]`));
}

/// Fills the help overlay's list from [`KEYS`].
export function drawKeyList(dl) {
  dl.replaceChildren(
    ...KEYS.map(([keys, what]) => {
      const div = document.createElement('div');
      const dt = document.createElement('dt');
      for (const [i, part] of keys.split(/(, | or )/).entries()) {
        if (i % 2 === 1) dt.append(part);
        else {
          const kbd = document.createElement('kbd');
          kbd.textContent = part;
          dt.append(kbd);
        }
      }
      const dd = document.createElement('dd');
      dd.textContent = what;
      div.append(dt, dd);
      return div;
    }),
  );
}
