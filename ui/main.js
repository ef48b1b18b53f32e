// Roster's window. It renders the session snapshot the app sends and turns
// clicks into the app's commands; all logic lives in Rust.
//
// Snapshot (from roster_core::SessionSnapshot, tagged with its account's
// id by the app): { account_id, state: { kind, reason?, since?, attempt? }, qr: { code, svg } | null,
//     account: { phone, jid, push_name } | null,
//     blocked_count: number | null, contact_count, directory_version,
//     groups_version, check }

import { available, invoke, listen } from './ipc.js';
import { $, clearMessages, clearStaleCounts, confirmation, sayExported } from './dom.js';
import { capitalize, displayName, initial, plural, withoutStop } from './format.js';
import { ContactList, keyOf } from './contacts.js';
import { Detail } from './detail.js';
import { Tools } from './tools.js';
import { ImportPanel } from './import/index.js';
import { ActivityLog } from './activity.js';
import { GroupsView } from './groups.js';
import { MarkedBar } from './marks.js';
import { LinkByNumber } from './linking.js';
import { drawKeyList, installKeys } from './keys.js';
import { AccountSwitcher } from './accounts.js';

const STATE_EVENT = 'session://state';

const BADGES = {
  connecting: { text: 'Connecting…', tone: 'busy' },
  waiting_for_scan: { text: 'Waiting for scan', tone: 'info' },
  connected: { text: 'Connected', tone: 'ok' },
  reconnecting: { text: 'Reconnecting…', tone: 'busy' },
  unreachable: { text: 'Cannot connect', tone: 'warn' },
  qr_expired: { text: 'QR expired', tone: 'warn' },
  logged_out: { text: 'Logged out', tone: 'error' },
  replaced: { text: 'Taken over by another session', tone: 'warn' },
  stopped: { text: 'Not running', tone: 'error' },
};

const ui = {
  body: document.body,
  status: $('status'),
  statusText: $('status-text'),
  error: $('error'),
  errorText: $('error-text'),
  errorDismiss: $('error-dismiss'),
  login: $('login'),
  loginNote: $('login-note'),
  qr: $('qr'),
  qrExpired: $('qr-expired'),
  qrWaiting: $('qr-waiting'),
  qrWaitingText: $('qr-waiting-text'),
  qrSpinner: $('qr-spinner'),
  refreshQr: $('refresh-qr'),
  reconnectNow: $('reconnect-now'),
  listNotice: $('list-notice'),
  listNoticeText: $('list-notice-text'),
  listUndo: $('list-undo'),
  listExport: $('list-export'),
  listExportMessage: $('list-export-message'),
  workspace: $('workspace'),
  accountChip: $('account-chip'),
  accountInitial: $('account-initial'),
  accountName: $('account-name'),
  accountPhone: $('account-phone'),
  accountJid: $('account-jid'),
  blockedPill: $('blocked-pill'),
  blockedCount: $('blocked-count'),
  offlineNote: $('offline-note'),
  tabs: [$('tab-contacts'), $('tab-import'), $('tab-groups'), $('tab-settings')],
  search: $('search'),
  filters: [$('filter-all'), $('filter-blocked')],
  logout: $('logout'),
  loggedOut: $('logged-out'),
  loggedOutReason: $('logged-out-reason'),
  relink: $('relink'),
  replaced: $('replaced'),
  takeBack: $('take-back'),
  confirm: { dialog: $('confirm-logout'), ok: $('confirm-ok'), cancel: $('confirm-cancel') },
  detail: $('detail'),
  keysHelp: $('keys-help'),
  keysHint: $('keys-hint'),
};

// The state before the current one (for "your phone scanned the code").
let previousKind = null;
let currentKind = null;
let lastSnapshot = null;
// The account the messages on screen are about.
let accountJid = null;
// One command at a time; buttons are disabled while one runs.
let busy = false;

function render(snapshot) {
  lastSnapshot = snapshot;
  const kind = snapshot.state.kind;
  if (kind !== currentKind) {
    previousKind = currentKind;
    currentKind = kind;
  }
  // Logged out, or another account: nothing said before still holds.
  const jid = snapshot.account?.jid ?? null;
  if (kind === 'logged_out' || (accountJid !== null && jid !== accountJid)) {
    clearMessages();
    ui.listNotice.hidden = true;
  }
  accountJid = jid;
  const account = snapshot.account;
  ui.body.dataset.state = kind;

  const badge = BADGES[kind] ?? { text: kind, tone: 'busy' };
  ui.status.dataset.tone = badge.tone;
  ui.statusText.textContent = statusText(snapshot.state, badge.text);

  // Which panel: the account once we know it (also while (re)connecting a
  // stored device), the login panel while pairing, a notice when unlinked.
  const trying = kind === 'reconnecting' || kind === 'unreachable' || kind === 'stopped';
  const showAccount = kind === 'connected' || (account && (kind === 'connecting' || trying));
  const showLoggedOut = kind === 'logged_out';
  const showReplaced = kind === 'replaced';
  const showLogin = !showAccount && !showLoggedOut && !showReplaced;
  ui.workspace.hidden = !showAccount;
  ui.accountChip.hidden = !showAccount;
  ui.loggedOut.hidden = !showLoggedOut;
  ui.replaced.hidden = !showReplaced;
  ui.login.hidden = !showLogin;
  ui.body.classList.toggle('wide', showAccount);

  renderQr(kind, snapshot.qr);
  if (showLogin) renderLoginNote(kind);
  linking.render(kind === 'waiting_for_scan', showLogin ? snapshot.link_code : null);
  if (showAccount) renderAccount(account, kind);
  renderDirectory(snapshot, showAccount);
  if (showLoggedOut) ui.loggedOutReason.textContent = capitalize(snapshot.state.reason);
  ui.reconnectNow.hidden = !trying;
  ui.reconnectNow.disabled = busy;
  ui.refreshQr.disabled = busy;
  ui.relink.disabled = busy;
  ui.takeBack.disabled = busy;
}

function statusText(state, text) {
  if (state.kind === 'logged_out') return `Logged out: ${state.reason}`;
  if (state.kind === 'reconnecting' && state.attempt > 0) return `Reconnecting… (attempt ${state.attempt})`;
  if (state.kind === 'unreachable') return `Cannot connect (attempt ${state.attempt + 1})`;
  return text;
}

// Why the window is offline, and what the client is doing about it.
function offlineText(state) {
  const waiting = 'The saved list stays usable; blocking and sync wait for the connection.';
  if (state.kind === 'unreachable') {
    const at = new Date(state.since * 1000).toLocaleTimeString();
    return (
      `Cannot connect since ${at}: ${state.reason}. Trying again with growing pauses ` +
      `(${plural(state.attempt + 1, 'attempt')} so far; "Reconnect now" tries at once). ${waiting}`
    );
  }
  if (state.kind === 'stopped') {
    return `WhatsApp could not be started: ${withoutStop(state.reason)}. "Reconnect now" tries again. ${waiting}`;
  }
  if (state.kind !== 'reconnecting') {
    return 'Not connected: showing the saved list; blocking and sync wait for the connection.';
  }
  const at = new Date(state.since * 1000).toLocaleTimeString();
  const tries = state.attempt > 0 ? `${plural(state.attempt, 'attempt')} so far` : 'the first attempt comes in a second';
  return (
    `Connection lost at ${at}: ${state.reason}. Reconnecting with growing pauses (${tries}; ` +
    `the pause grows up to 15 minutes). ${waiting}`
  );
}

function renderQr(kind, qr) {
  const code = kind === 'waiting_for_scan' && qr ? qr.code : null;
  if (code === null) {
    if ('qr' in ui.qr.dataset) {
      delete ui.qr.dataset.qr;
      ui.qr.replaceChildren();
    }
  } else if (ui.qr.dataset.qr !== code) {
    // The SVG is a complete document rendered by the app. Shown as an image,
    // it cannot run scripts or load anything, whatever it contains.
    const img = document.createElement('img');
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qr.svg)}`;
    img.alt = 'QR code to link this computer to your WhatsApp account';
    img.draggable = false;
    ui.qr.replaceChildren(img);
    ui.qr.dataset.qr = code;
  }
  ui.qrExpired.hidden = kind !== 'qr_expired';
  ui.qrWaiting.hidden = code !== null || kind === 'qr_expired';
  // Nothing is under way until the operator asks again.
  ui.qrSpinner.hidden = kind === 'stopped';
}

function renderLoginNote(kind) {
  let waiting = 'Connecting to WhatsApp…';
  let note = '';
  if (kind === 'connecting' && previousKind === 'waiting_for_scan') {
    waiting = 'Linking…';
    note = 'Your phone scanned the code. Finishing the link…';
  } else if (kind === 'reconnecting') {
    waiting = 'Reconnecting…';
  } else if (kind === 'stopped') {
    waiting = 'WhatsApp could not be started.';
    note = `${capitalize(lastSnapshot.state.reason)} "Reconnect now" tries again.`;
  } else if (kind === 'unreachable') {
    waiting = 'Cannot connect to WhatsApp.';
    note = `${capitalize(lastSnapshot.state.reason)} Trying again by itself; "Reconnect now" tries at once.`;
  } else if (kind === 'waiting_for_scan') {
    note = 'The code refreshes by itself; keep this window open while you scan.';
  } else if (kind === 'qr_expired') {
    note = 'No phone scanned the codes in time.';
  }
  ui.qrWaitingText.textContent = waiting;
  ui.loginNote.textContent = note;
}

function renderAccount(account, kind) {
  const name = account?.push_name?.trim() || 'WhatsApp account';
  ui.accountName.textContent = name;
  ui.accountInitial.textContent = initial(name);
  ui.accountPhone.textContent = account ? account.phone_shown : '';
  ui.accountJid.textContent = account?.jid ?? '';
  ui.logout.disabled = busy || kind !== 'connected';
  // A check, its bulk actions and the activity log are this account's own.
  for (const el of document.querySelectorAll('[data-for-account]')) el.textContent = `of ${name}`;
}

// The directory: the header count, the list and what may be done offline.
let directoryVersion = null;
let groupsVersion = null;

function renderDirectory(snapshot, shown) {
  const connected = snapshot.state.kind === 'connected';
  ui.blockedPill.hidden = !shown;
  const count = snapshot.blocked_count;
  ui.blockedCount.textContent = count === null || count === undefined ? '—' : String(count);
  ui.blockedPill.dataset.count = ui.blockedCount.textContent;
  if (count !== null && count !== undefined) clearStaleCounts(count);
  ui.offlineNote.hidden = !shown || connected;
  ui.offlineNote.textContent = offlineText(snapshot.state);
  ui.offlineNote.dataset.attempt = String(snapshot.state.attempt ?? '');
  list.setConnected(connected);
  marks.setConnected(connected);
  tools.setConnected(connected);
  importPanel.render(snapshot.check, connected);
  groups.setConnected(connected);
  if (!shown) return;
  if (snapshot.groups_version !== groupsVersion) {
    groupsVersion = snapshot.groups_version;
    groups.changed();
  }
  if (directoryVersion === null) tools.loadSettings();
  if (snapshot.directory_version !== directoryVersion) {
    directoryVersion = snapshot.directory_version;
    list.directoryChanged(directoryVersion);
    if (!$('settings-view').hidden) activity.load();
  }
  detail.draw();
}

function showError(message) {
  ui.errorText.textContent = String(message);
  ui.error.hidden = false;
}

function clearError() {
  ui.error.hidden = true;
  ui.errorText.textContent = '';
}

async function command(name, button) {
  if (busy) return;
  busy = true;
  button.disabled = true;
  clearError();
  try {
    await invoke(name);
  } catch (e) {
    showError(e);
  } finally {
    busy = false;
    if (lastSnapshot) render(lastSnapshot);
    else button.disabled = false;
  }
}

function showTab(tab) {
  for (const t of ui.tabs) {
    const selected = t === tab;
    t.setAttribute('aria-selected', String(selected));
    $(t.getAttribute('aria-controls')).hidden = !selected;
  }
  if (tab.id === 'tab-settings') activity.load();
  if (tab.id === 'tab-groups') groups.shown();
}

function wire() {
  for (const tab of ui.tabs) tab.addEventListener('click', () => showTab(tab));
  // `input` as the operator types; `change` and `search` when the box is
  // cleared at once (its × button, Escape, or a script).
  for (const type of ['input', 'change', 'search']) {
    ui.search.addEventListener(type, () => list.search(ui.search.value.trim()));
  }
  for (const button of ui.filters) {
    button.addEventListener('click', () => {
      for (const b of ui.filters) b.setAttribute('aria-pressed', String(b === button));
      list.setFilter(button === ui.filters[1] ? 'blocked' : 'all');
    });
  }

  // The list as it is filtered (everyone, or the blocked), as CSV.
  ui.listExport.addEventListener('click', () =>
    sayExported(ui.listExportMessage, invoke('export_contacts', { filter: list.filter })),
  );

  ui.errorDismiss.addEventListener('click', clearError);
  ui.refreshQr.addEventListener('click', () => command('refresh_qr', ui.refreshQr));
  ui.reconnectNow.addEventListener('click', () => command('reconnect_now', ui.reconnectNow));
  ui.listUndo.addEventListener('click', () => undoNotice?.());
  // After an unlink the stored device is dead: `logout` forgets it and starts
  // a fresh pairing (`refresh_qr` would try to log in with it again).
  ui.relink.addEventListener('click', () => command('logout', ui.relink));
  ui.takeBack.addEventListener('click', () => command('refresh_qr', ui.takeBack));

  const confirmLogout = confirmation(ui.confirm, () => command('logout', ui.logout));
  ui.logout.addEventListener('click', confirmLogout);
  wireKeys();
}

// The keyboard (keys.js) sends these intents.
function wireKeys() {
  drawKeyList($('keys-list'));
  $('keys-close').addEventListener('click', () => ui.keysHelp.close());
  ui.keysHint.addEventListener('click', showKeys);
  installKeys({
    active: () => !ui.workspace.hidden,
    list,
    contactsShown: () => !$('contacts-view').hidden,
    focusSearch,
    openDetail,
    inDetail: (el) => ui.detail.contains(el),
    nextTab,
    showHelp: showKeys,
    switchAccount: (n) => switcher.switchToNth(n),
  });
}

function focusSearch() {
  if ($('contacts-view').hidden) showTab(ui.tabs[0]);
  ui.search.focus();
  ui.search.select();
}

/// The selected contact's detail, with focus in it (Escape goes back).
function openDetail() {
  const row = list.selectedRow();
  if (!row) return;
  if (detail.row === null || keyOf(detail.row) !== keyOf(row)) detail.show(row);
  ui.detail.focus();
}

function nextTab(step) {
  const at = ui.tabs.findIndex((t) => t.getAttribute('aria-selected') === 'true');
  const tab = ui.tabs[(at + step + ui.tabs.length) % ui.tabs.length];
  showTab(tab);
  tab.focus();
}

function showKeys() {
  ui.keysHelp.showModal();
  $('keys-close').focus();
}

const list = new ContactList({
  scroller: $('contact-list'),
  rows: $('contact-rows'),
  empty: $('list-empty'),
  count: $('list-count'),
  onSelect: (row) => detail.show(row),
  confirm: {
    dialog: $('confirm-block'),
    ok: $('confirm-block-ok'),
    cancel: $('confirm-block-cancel'),
    title: $('confirm-block-title'),
    body: $('confirm-block-body'),
  },
  onChange: () => detail.refresh(),
  onError: showError,
  onBlocked: (row, block) => showBlockNotice(row, block),
  onMarks: () => marks.draw(),
});
const detail = new Detail(list);
const activity = new ActivityLog();
const groups = new GroupsView();
const tools = new Tools({
  onBlocked: () => list.reload(),
  onSynced: () => activity.load(),
  onSettings: (settings) => {
    list.confirmBlocks = settings.confirm_blocks;
  },
});

const marks = new MarkedBar({ list, notice: showNotice, onDone: () => list.reload(), onError: showError });

// What the last action from the list did, with its Undo (none when null).
let undoNotice = null;

function showNotice(text, undo) {
  undoNotice = undo;
  ui.listNoticeText.textContent = text;
  ui.listUndo.hidden = !undo;
  ui.listNotice.hidden = !text;
}

function showBlockNotice(row, block) {
  showNotice(`${block ? 'Blocked' : 'Unblocked'} ${displayName(row)}.`, block ? () => list.setBlocked(row, false) : null);
}
const importPanel = new ImportPanel({ onGroupsChanged: () => groups.changed() });
const linking = new LinkByNumber();
// Another account is current: every view (list, detail, import, groups,
// activity) starts afresh from its state, as at start.
const switcher = new AccountSwitcher({ onSwitched: () => window.location.reload(), onError: showError });
// The account the window shows; snapshots of the others are not rendered.
let shownAccount = null;

// Start-up marks (`roster:…`): the start-up bench prints when each came.
const mark = (name) => performance.mark(`roster:${name}`);

async function start() {
  mark('script');
  wire();
  if (!available()) {
    showError('This page only works inside the Roster app.');
    return;
  }
  // Listen first, then ask for the accounts and the current state, side by
  // side: a state event that arrives while we ask is newer than (or as new
  // as) the answer, so the answer is only used if no event came first.
  // Until they answer, the newest event of each account is kept.
  let early = new Map();
  // The list's first page is asked for at once, beside the state: it comes
  // with the directory version it holds, so the first snapshot keeps it
  // unless the directory changed in between.
  list.load(0);
  try {
    await Promise.all([
      switcher.follow(),
      listen(STATE_EVENT, (event) => {
        // Every account's snapshots arrive, each saying whose it is.
        if (early) {
          early.set(event.payload.account_id, event.payload);
          return;
        }
        if (event.payload.account_id === shownAccount) render(event.payload);
      }),
    ]);
    mark('listening');
    const [current, snapshot] = await Promise.all([switcher.load(), invoke('session_snapshot')]);
    shownAccount = current;
    const newer = early.get(shownAccount);
    early = null;
    mark('snapshot');
    if (snapshot.account_id !== shownAccount) {
      // Switched meanwhile (another start of the window): show that one.
      window.location.reload();
      return;
    }
    render(newer ?? snapshot);
    mark('rendered');
  } catch (e) {
    showError(`Cannot reach the app: ${e}`);
  }
}

start();
