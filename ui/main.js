// Roster's window. It renders the session snapshot the app sends and turns
// clicks into the app's commands; all logic lives in Rust.
//
// Snapshot (from roster_core::SessionSnapshot):
//   { state: { kind, reason? }, qr: { code, svg } | null,
//     account: { phone, jid, push_name } | null }

const STATE_EVENT = 'session://state';

const BADGES = {
  connecting: { text: 'Connecting…', tone: 'busy' },
  waiting_for_scan: { text: 'Waiting for scan', tone: 'info' },
  connected: { text: 'Connected', tone: 'ok' },
  reconnecting: { text: 'Reconnecting…', tone: 'busy' },
  qr_expired: { text: 'QR expired', tone: 'warn' },
  logged_out: { text: 'Logged out', tone: 'error' },
};

const $ = (id) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
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
  refreshQr: $('refresh-qr'),
  account: $('account'),
  accountInitial: $('account-initial'),
  accountName: $('account-name'),
  accountPhone: $('account-phone'),
  accountJid: $('account-jid'),
  logout: $('logout'),
  loggedOut: $('logged-out'),
  loggedOutReason: $('logged-out-reason'),
  relink: $('relink'),
  confirm: $('confirm-logout'),
  confirmOk: $('confirm-ok'),
  confirmCancel: $('confirm-cancel'),
};

// The state before the current one (for "your phone scanned the code").
let previousKind = null;
let currentKind = null;
let lastSnapshot = null;
// One command at a time; buttons are disabled while one runs.
let busy = false;

function render(snapshot) {
  lastSnapshot = snapshot;
  const kind = snapshot.state.kind;
  if (kind !== currentKind) {
    previousKind = currentKind;
    currentKind = kind;
  }
  const account = snapshot.account;
  ui.body.dataset.state = kind;

  const badge = BADGES[kind] ?? { text: kind, tone: 'busy' };
  ui.status.dataset.tone = badge.tone;
  ui.statusText.textContent =
    kind === 'logged_out' ? `Logged out: ${snapshot.state.reason}` : badge.text;

  // Which panel: the account once we know it (also while (re)connecting a
  // stored device), the login panel while pairing, a notice when unlinked.
  const showAccount = kind === 'connected' || (account && (kind === 'connecting' || kind === 'reconnecting'));
  const showLoggedOut = kind === 'logged_out';
  const showLogin = !showAccount && !showLoggedOut;
  ui.account.hidden = !showAccount;
  ui.loggedOut.hidden = !showLoggedOut;
  ui.login.hidden = !showLogin;

  renderQr(kind, snapshot.qr);
  if (showLogin) renderLoginNote(kind);
  if (showAccount) renderAccount(account, kind);
  if (showLoggedOut) ui.loggedOutReason.textContent = capitalize(snapshot.state.reason);
  ui.refreshQr.disabled = busy;
  ui.relink.disabled = busy;
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
}

function renderLoginNote(kind) {
  let waiting = 'Connecting to WhatsApp…';
  let note = '';
  if (kind === 'connecting' && previousKind === 'waiting_for_scan') {
    waiting = 'Linking…';
    note = 'Your phone scanned the code. Finishing the link…';
  } else if (kind === 'reconnecting') {
    waiting = 'Reconnecting…';
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
  ui.accountInitial.textContent = [...name][0]?.toUpperCase() ?? '?';
  ui.accountPhone.textContent = account ? formatPhone(account.phone) : '';
  ui.accountJid.textContent = account?.jid ?? '';
  ui.logout.disabled = busy || kind !== 'connected';
}

/// "+15550001234" → "+1 555 000 1234" for North American numbers; other
/// numbers are shown as given (E.164), which is unambiguous everywhere.
function formatPhone(phone) {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phone);
  return m ? `+1 ${m[1]} ${m[2]} ${m[3]}` : phone;
}

function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.') : '';
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
    await window.__TAURI__.core.invoke(name);
  } catch (e) {
    showError(e);
  } finally {
    busy = false;
    if (lastSnapshot) render(lastSnapshot);
    else button.disabled = false;
  }
}

function wire() {
  ui.errorDismiss.addEventListener('click', clearError);
  ui.refreshQr.addEventListener('click', () => command('refresh_qr', ui.refreshQr));
  // After an unlink the stored device is dead: `logout` forgets it and starts
  // a fresh pairing (`refresh_qr` would try to log in with it again).
  ui.relink.addEventListener('click', () => command('logout', ui.relink));

  ui.logout.addEventListener('click', () => {
    ui.confirm.showModal();
    ui.confirmCancel.focus();
  });
  ui.confirmCancel.addEventListener('click', () => ui.confirm.close('cancel'));
  ui.confirmOk.addEventListener('click', () => ui.confirm.close('logout'));
  ui.confirm.addEventListener('close', () => {
    if (ui.confirm.returnValue === 'logout') command('logout', ui.logout);
    ui.confirm.returnValue = '';
  });
}

async function start() {
  wire();
  const tauri = window.__TAURI__;
  if (!tauri) {
    showError('This page only works inside the Roster app.');
    return;
  }
  // Listen first, then ask for the current state: an event that arrives
  // while we ask is newer than (or as new as) the answer, so the answer is
  // only used if no event came first.
  let sawEvent = false;
  try {
    await tauri.event.listen(STATE_EVENT, (event) => {
      sawEvent = true;
      render(event.payload);
    });
    const snapshot = await tauri.core.invoke('session_snapshot');
    if (!sawEvent) render(snapshot);
  } catch (e) {
    showError(`Cannot reach the app: ${e}`);
  }
}

start();
