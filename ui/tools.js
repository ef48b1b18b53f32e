// The forms: block or unblock a typed number, the default country, and the
// app-state sync. Each keeps what the operator typed when the app refuses it.

import { invoke } from './ipc.js';
import { $, say, sayWithCount } from './dom.js';
import { phoneOrLid, plural } from './format.js';

/// Disables a form's buttons while its command runs.
async function busy(form, work) {
  const buttons = [...form.querySelectorAll('button')];
  for (const b of buttons) b.disabled = true;
  form.dataset.busy = 'true';
  try {
    return await work();
  } finally {
    delete form.dataset.busy;
    for (const b of buttons) b.disabled = false;
    form.dispatchEvent(new Event('roster:idle'));
  }
}

export class Tools {
  constructor({ onBlocked, onSynced, onSettings }) {
    this.connected = false;
    this.onBlocked = onBlocked;
    this.onSynced = onSynced;
    this.onSettings = onSettings;
    this.confirm = { input: $('confirm-blocks'), message: $('confirm-blocks-message') };
    this.confirm.input.addEventListener('change', () => this.saveConfirm());
    this.block = { form: $('block-form'), input: $('block-input'), message: $('block-message') };
    this.country = { form: $('country-form'), input: $('country-input'), message: $('country-message') };
    this.sync = { form: $('sync-form'), full: $('sync-full'), report: $('sync-report'), note: $('sync-scopes-note') };

    this.block.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.blockTyped(event.submitter?.value !== 'unblock');
    });
    this.country.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.saveCountry();
    });
    this.sync.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.runSync();
    });
    this.sync.form.addEventListener('change', () => this.describeScopes());
    this.describeScopes();
    for (const form of [this.block.form, this.sync.form]) {
      form.addEventListener('roster:idle', () => this.setConnected(this.connected, true));
    }
  }

  setConnected(connected, force = false) {
    if (connected === this.connected && !force) return;
    this.connected = connected;
    for (const form of [this.block.form, this.sync.form]) {
      if (form.dataset.busy) continue;
      for (const b of form.querySelectorAll('button')) {
        b.disabled = !connected;
        b.title = connected ? '' : 'Not connected';
      }
    }
  }

  async loadSettings() {
    try {
      const settings = await invoke('settings');
      this.showCountry(settings);
      this.showConfirm(settings);
    } catch (error) {
      say(this.country.message, `Cannot read the settings: ${error}`, 'error');
    }
  }

  showCountry(settings) {
    const country = settings.default_country;
    this.country.input.value = country ? country.code : '';
    say(
      this.country.message,
      country ? `Numbers without a country code are read as ${country.code} (+${country.calling_code}).` : 'No default country: type numbers with + and their country code.',
      'info',
    );
  }

  showConfirm(settings) {
    this.confirm.input.checked = settings.confirm_blocks;
    this.onSettings(settings);
  }

  async saveConfirm() {
    const { input, message } = this.confirm;
    try {
      this.showConfirm(await invoke('set_confirm_blocks', { on: input.checked }));
      say(message, input.checked ? 'Blocking from the list asks first.' : 'Blocking from the list no longer asks.', 'ok');
    } catch (error) {
      input.checked = !input.checked;
      say(message, `Cannot change the setting: ${error}`, 'error');
    }
  }

  async saveCountry() {
    const { form, input, message } = this.country;
    await busy(form, async () => {
      try {
        this.showCountry(await invoke('set_default_country', { code: input.value }));
      } catch (error) {
        say(message, String(error), 'error');
      }
    });
  }

  async blockTyped(block) {
    const { form, input, message } = this.block;
    const typed = input.value.trim();
    if (!typed) {
      say(message, 'Type a phone number, a phone JID (…@s.whatsapp.net) or a LID (…@lid).', 'error');
      input.focus();
      return;
    }
    say(message, block ? 'Blocking…' : 'Unblocking…', 'info');
    await busy(form, async () => {
      try {
        const outcome = await invoke('set_blocked', { target: typed, block });
        const text = `${block ? 'Blocked' : 'Unblocked'} ${phoneOrLid(outcome)}. This account now blocks ${outcome.count}.`;
        sayWithCount(message, text, 'ok', outcome.count);
        input.value = '';
        this.onBlocked();
      } catch (error) {
        say(message, String(error), 'error');
        input.select();
      }
    });
  }

  /// Says what "Sync now" will cover: the ticked scopes, or the defaults.
  describeScopes() {
    const ticked = [...this.sync.form.querySelectorAll('input[name="scope"]:checked')].map((c) => SCOPE_WORDS[c.value]);
    this.sync.note.textContent = ticked.length
      ? `Will sync ${listed(ticked)}.`
      : `Nothing ticked: ${listed(DEFAULT_SCOPES.map((s) => SCOPE_WORDS[s]))} will be synced.`;
  }

  async runSync() {
    const { form, full, report } = this.sync;
    const scopes = [...form.querySelectorAll('input[name="scope"]:checked')].map((c) => c.value);
    say(report, 'Syncing…', 'info');
    await busy(form, async () => {
      try {
        const result = await invoke('sync_app_state', { scopes, full: full.checked });
        say(report, describeSync(result), 'ok');
      } catch (error) {
        say(report, String(error), 'error');
      }
    });
    this.onSynced();
  }
}

/// What each scope holds, as the operator ticks it.
const SCOPE_WORDS = {
  contacts: 'contacts',
  chats: 'chats',
  settings: 'settings',
  pins: 'pinned chats',
  critical: 'essential settings and contacts',
};
/// What a sync with nothing ticked covers (the core's defaults).
const DEFAULT_SCOPES = ['contacts', 'chats', 'settings'];

function listed(words) {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : words.join('');
}

function describeSync(report) {
  const parts = report.by_scope.map(
    (s) => `${SCOPE_WORDS[s.scope]}: ${s.changes ? plural(s.changes, 'change') : 'no changes'}`,
  );
  const kind = report.full ? 'Rebuilt from the phone' : 'Brought up to date';
  return `${kind}: ${parts.join('; ')}.`;
}
