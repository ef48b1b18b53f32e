// "Link with phone number instead", beside the QR code on the link screen:
// the operator types the account's number, the app asks WhatsApp for a
// code, and the window shows it with its expiry until the phone links (or
// says it could not). The QR code stays valid meanwhile.

import { $, say } from './dom.js';
import { invoke } from './ipc.js';
import { unixNow } from './format.js';

export class LinkByNumber {
  constructor() {
    this.el = {
      open: $('link-number-open'),
      form: $('link-number-form'),
      input: $('link-number-input'),
      submit: $('link-number-submit'),
      message: $('link-number-message'),
      shown: $('link-code'),
      code: $('link-code-value'),
      phone: $('link-code-phone'),
      expiry: $('link-code-expiry'),
      renew: $('link-code-renew'),
    };
    this.code = null;
    this.ready = false;
    this.busy = false;
    this.timer = 0;
    const { el } = this;
    el.open.addEventListener('click', () => {
      el.form.hidden = false;
      el.open.hidden = true;
      el.input.focus();
    });
    el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.ask(el.input.value);
    });
    el.renew.addEventListener('click', () => this.ask(el.input.value));
  }

  /// The link screen's state: `ready` once a QR code shows (a code can be
  /// asked for then); `code` the snapshot's `link_code`.
  render(ready, code) {
    this.ready = ready;
    this.code = code;
    this.draw();
  }

  async ask(number) {
    const { el } = this;
    if (this.busy) return;
    if (!number.trim()) {
      say(el.message, "Type the account's phone number, with its country code (+55 11 …).", 'error');
      return;
    }
    this.busy = true;
    this.draw();
    say(el.message, 'Asking WhatsApp for a code…');
    try {
      this.code = await invoke('link_with_code', { number });
      say(el.message, '');
    } catch (error) {
      say(el.message, String(error), 'error');
    } finally {
      this.busy = false;
      this.draw();
    }
  }

  draw() {
    const { el, code } = this;
    el.submit.disabled = this.busy || !this.ready;
    el.renew.disabled = this.busy || !this.ready;
    el.shown.hidden = !code;
    clearTimeout(this.timer);
    if (!code) return;
    el.code.textContent = code.code;
    el.phone.textContent = code.phone_shown;
    const left = code.expires_at - unixNow();
    if (code.written_off) {
      el.shown.dataset.state = 'failed';
      el.expiry.textContent = 'The phone could not link with this code (was it typed right?). Get a new one.';
    } else if (left <= 0) {
      el.shown.dataset.state = 'expired';
      el.expiry.textContent = 'This code has expired. Get a new one.';
    } else {
      el.shown.dataset.state = 'live';
      const minutes = Math.floor(left / 60);
      const seconds = String(left % 60).padStart(2, '0');
      el.expiry.textContent = `Expires in ${minutes}:${seconds}.`;
      this.timer = setTimeout(() => this.draw(), 1000);
    }
  }
}
