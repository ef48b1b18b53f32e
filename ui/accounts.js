// The account switcher in the header ("N accounts", opening a list):
// every account Roster holds, each with its state and blocked count (from
// the app's `accounts://list` events, live), the current one pressed;
// "Add account" and "Remove account" (after a confirmation naming it). Switching tells the app, then
// hands over to main.js (which starts every view afresh).

import { invoke, listen } from './ipc.js';
import { $, confirmation } from './dom.js';
import { plural } from './format.js';

const ACCOUNTS_EVENT = 'accounts://list';

/// A state as the switcher says it (the header's badge says more).
const STATES = {
  connecting: 'connecting',
  waiting_for_scan: 'not linked yet',
  connected: 'connected',
  reconnecting: 'reconnecting',
  unreachable: 'cannot connect',
  qr_expired: 'not linked yet',
  logged_out: 'logged out',
  replaced: 'taken over',
  stopped: 'not running',
};

export class AccountSwitcher {
  /// `onSwitched(id)`: another account is now current; `onError(message)`.
  constructor({ onSwitched, onError }) {
    this.onSwitched = onSwitched;
    this.onError = onError;
    this.list = { current: null, accounts: [] };
    this.items = $('account-list');
    this.add = $('add-account');
    this.remove = $('remove-account');
    this.confirm = {
      dialog: $('confirm-remove-account'),
      ok: $('confirm-remove-account-ok'),
      cancel: $('confirm-remove-account-cancel'),
    };
    this.add.addEventListener('click', () => this.addAccount());
    const confirmRemove = confirmation(this.confirm, () => this.removeCurrent());
    this.remove.addEventListener('click', () => {
      const account = this.currentAccount();
      if (!account) return;
      $('confirm-remove-account-name').textContent = account.label;
      confirmRemove();
    });
  }

  /// Follows the app's list (call before `load`).
  follow() {
    return listen(ACCOUNTS_EVENT, (event) => this.render(event.payload));
  }

  /// Reads the app's list; answers the current account's id.
  async load() {
    const list = await invoke('accounts');
    this.render(list);
    return list.current;
  }

  get current() {
    return this.list.current;
  }

  currentAccount() {
    return this.list.accounts.find((a) => a.id === this.list.current) ?? null;
  }

  render(list) {
    this.list = list;
    this.items.replaceChildren(
      ...list.accounts.map((account, at) => {
        const item = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'account-switch';
        button.dataset.account = String(account.id);
        button.dataset.state = account.state.kind;
        button.setAttribute('aria-pressed', String(account.id === list.current));
        const blocked = account.blocked_count === null ? '' : `, ${plural(account.blocked_count, 'blocked', 'blocked')}`;
        const name = document.createElement('span');
        name.className = 'account-switch-name';
        name.textContent = account.label;
        const detail = document.createElement('span');
        detail.className = 'account-switch-detail';
        detail.textContent = `${STATES[account.state.kind] ?? account.state.kind}${blocked}`;
        button.append(name, detail);
        if (at < 9) button.title = `Ctrl+${at + 1}`;
        button.addEventListener('click', () => this.switchTo(account.id));
        item.append(button);
        return item;
      }),
    );
    this.remove.disabled = list.accounts.length === 0;
    $('accounts-summary').textContent = plural(list.accounts.length, 'account');
  }

  /// Ctrl+1…9: the n-th account of the list.
  switchToNth(n) {
    const account = this.list.accounts[n - 1];
    if (account) this.switchTo(account.id);
  }

  async switchTo(id) {
    if (id === this.list.current) return;
    try {
      await invoke('switch_account', { id });
      this.onSwitched(id);
    } catch (e) {
      this.onError(String(e));
    }
  }

  async addAccount() {
    this.add.disabled = true;
    try {
      const id = await invoke('add_account');
      this.onSwitched(id);
    } catch (e) {
      this.onError(String(e));
    } finally {
      this.add.disabled = false;
    }
  }

  async removeCurrent() {
    const id = this.list.current;
    this.remove.disabled = true;
    try {
      await invoke('remove_account', { id });
      this.onSwitched(null);
    } catch (e) {
      this.onError(String(e));
    } finally {
      this.remove.disabled = false;
    }
  }
}
