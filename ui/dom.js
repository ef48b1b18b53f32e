// The small DOM helpers every view shares.

import { invoke } from './ipc.js';

/// The element with this id; a missing one is a bug in index.html, said at once.
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/// Shows a message in a status line, with its tone (info, ok, error) for the style.
export function say(el, text, tone = 'info') {
  el.textContent = text;
  el.dataset.tone = tone;
}

/// A message that ends with the account's blocked count ("This account now
/// blocks 4."): it is cleared once that count changes, rather than left
/// saying something no longer true (see `clearStaleCounts`).
export function sayWithCount(el, text, tone, count) {
  say(el, text, tone);
  el.dataset.quotedCount = String(count);
}

/// Clears every message that quoted another blocked count than `count`.
export function clearStaleCounts(count) {
  for (const el of document.querySelectorAll('[data-quoted-count]')) {
    if (el.dataset.quotedCount !== String(count)) {
      say(el, '');
      delete el.dataset.quotedCount;
    }
  }
}

/// Empties every status message (after a logout nothing said before holds).
export function clearMessages() {
  for (const el of document.querySelectorAll('.form-message')) {
    say(el, '');
    delete el.dataset.quotedCount;
    delete el.dataset.path;
  }
}

/// A table cell with this text (none for null) and, if given, a class.
export function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

/// Says where an export was saved (the path also in `data-path`), with a
/// "Show in folder" button; that the Save dialog was cancelled; or why it failed.
export async function sayExported(el, exporting) {
  try {
    const path = await exporting;
    if (path === null) {
      say(el, 'Export cancelled.', 'info');
      delete el.dataset.path;
      return;
    }
    say(el, `Saved to ${path} `, 'ok');
    el.dataset.path = path;
    el.append(showInFolder(el, path));
  } catch (error) {
    say(el, String(error), 'error');
  }
}

function showInFolder(el, path) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button link-button';
  button.dataset.action = 'show-in-folder';
  button.textContent = 'Show in folder';
  button.addEventListener('click', () =>
    invoke('show_in_folder', { path }).catch((error) => say(el, String(error), 'error')),
  );
  return button;
}

/// Wires a confirmation dialog: its Cancel closes it, its OK closes it and
/// runs `onConfirm`. Returns `open()`, which shows it with Cancel focused.
export function confirmation({ dialog, ok, cancel }, onConfirm) {
  cancel.addEventListener('click', () => dialog.close('cancel'));
  ok.addEventListener('click', () => dialog.close('ok'));
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'ok') onConfirm();
    dialog.returnValue = '';
  });
  return () => {
    dialog.showModal();
    cancel.focus();
  };
}
