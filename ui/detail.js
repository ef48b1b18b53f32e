// The detail panel: one contact's picture, about (with when it was set),
// block state and the disappearing-message timer of the 1:1 chat with them
// (the same control as a group's; `set_chat_timer` answers with the timer
// as set). Blocking here goes through the list's optimistic toggle, so the
// row and the panel always agree.

import { invoke } from './ipc.js';
import { keyOf, targetOf } from './contacts.js';
import { $, say } from './dom.js';
import { ONLY_LID, displayName, initial, localTime } from './format.js';
import { timerWords } from './groups.js';

export class Detail {
  constructor(list) {
    this.list = list;
    this.row = null;
    this.details = null;
    this.loading = false;
    this.note = '';
    this.el = {
      empty: $('detail-empty'),
      body: $('detail-body'),
      picture: $('detail-picture'),
      pictureLabel: $('detail-picture-label'),
      name: $('detail-name'),
      pushName: $('detail-push-name'),
      phone: $('detail-phone'),
      lid: $('detail-lid'),
      about: $('detail-about'),
      aboutSet: $('detail-about-set'),
      blocked: $('detail-blocked'),
      note: $('detail-note'),
      toggle: $('detail-toggle'),
      timer: $('detail-timer'),
      timerButtons: [...$('detail-timer').querySelectorAll('button[data-seconds]')],
      custom: $('detail-timer-custom'),
      customSeconds: $('detail-timer-seconds'),
      customSet: $('detail-timer-set'),
      timerNote: $('detail-timer-note'),
      timerMessage: $('detail-timer-message'),
    };
    /// A timer change on its way.
    this.busy = false;
    const el = this.el;
    el.toggle.addEventListener('click', () => this.row && this.list.toggle(this.row));
    for (const button of el.timerButtons) {
      button.addEventListener('click', () => this.setTimer(Number(button.dataset.seconds)));
    }
    el.custom.addEventListener('submit', (event) => {
      event.preventDefault();
      const seconds = Number(el.customSeconds.value);
      if (el.customSeconds.value.trim() === '' || !Number.isInteger(seconds) || seconds < 0) {
        say(el.timerMessage, 'Type a whole number of seconds.', 'error');
        return;
      }
      this.setTimer(seconds);
    });
  }

  async setTimer(seconds) {
    const row = this.row;
    if (!row || this.busy) return;
    this.busy = true;
    say(this.el.timerMessage, 'Setting the timer…');
    this.drawTimer();
    try {
      const timer = await invoke('set_chat_timer', { person: targetOf(row), seconds });
      if (keyOf(this.row) !== keyOf(row)) return;
      if (this.details) this.details.chat_timer = timer;
      this.el.customSeconds.value = '';
      say(this.el.timerMessage, `Disappearing messages: ${timerWords(timer.seconds)}.`, 'ok');
    } catch (error) {
      if (keyOf(this.row) === keyOf(row)) say(this.el.timerMessage, String(error), 'error');
    } finally {
      this.busy = false;
      if (keyOf(this.row) === keyOf(row)) this.drawTimer();
    }
  }

  show(row) {
    if (keyOf(this.row ?? {}) !== keyOf(row)) {
      say(this.el.timerMessage, '');
      this.el.customSeconds.value = '';
    }
    this.row = row;
    this.details = null;
    this.note = '';
    this.draw();
    this.fetch();
  }

  /// The list reloaded or a toggle moved: take the row's latest state.
  refresh() {
    if (!this.row) return;
    this.row = this.list.find(keyOf(this.row)) ?? this.row;
    this.draw();
  }

  async fetch() {
    const row = this.row;
    if (!row?.phone) return;
    this.loading = true;
    this.draw();
    try {
      const details = await invoke('contact_details', { phone: row.phone });
      if (keyOf(this.row) !== keyOf(row)) return;
      this.details = details;
      this.list.setAvatar(row.phone, { picture: details.picture, picture_state: details.contact.picture_state });
    } catch (error) {
      if (keyOf(this.row) === keyOf(row)) this.note = `Cannot load the details: ${error}`;
    } finally {
      if (keyOf(this.row) === keyOf(row)) {
        this.loading = false;
        this.draw();
      }
    }
  }

  draw() {
    const { el, row } = this;
    el.empty.hidden = row !== null;
    el.body.hidden = row === null;
    if (!row) return;
    const contact = this.details?.contact ?? row;
    el.name.textContent = displayName(contact);
    el.pushName.textContent = contact.push_name && contact.push_name !== contact.name ? `~${contact.push_name}` : '';
    el.phone.textContent = row.phone_shown || `Not known: ${ONLY_LID}`;
    el.lid.textContent = contact.lid ? `${contact.lid}@lid` : 'unknown';
    this.drawPicture(contact);
    this.drawAbout(contact);

    const { blocked, pending } = this.list.blockedState(row);
    el.blocked.textContent = pending ? (blocked ? 'Blocking…' : 'Unblocking…') : blocked ? 'Yes' : 'No';
    el.toggle.textContent = blocked ? 'Unblock' : 'Block';
    el.toggle.className = `button ${blocked ? '' : 'danger-outline'}`;
    el.toggle.disabled = pending || !this.list.connected;
    el.toggle.title = this.list.connected ? '' : 'Not connected';
    el.note.textContent = this.note;
    this.drawTimer();
  }

  /// The chat's timer as last read or set; the buttons wait for the
  /// details and the connection.
  drawTimer() {
    const { el } = this;
    const timer = this.details?.chat_timer ?? null;
    const seconds = timer?.seconds ?? 0;
    el.timer.dataset.timer = this.details ? String(seconds) : '';
    const usable = this.details !== null && this.list.connected;
    for (const b of el.timerButtons) {
      b.setAttribute('aria-pressed', String(this.details !== null && Number(b.dataset.seconds) === seconds));
      b.disabled = this.busy || !usable;
    }
    el.customSeconds.disabled = !usable;
    el.customSet.disabled = this.busy || !usable;
    let now;
    if (!this.details) now = this.loading ? 'Loading…' : 'Not loaded.';
    else if (!timer) now = 'Now: Off (no chat with them yet).';
    else if ([0, 86400, 604800, 7776000].includes(seconds)) now = `Now: ${timerWords(seconds)}.`;
    else now = `Now: ${timerWords(seconds)} (${seconds} s).`;
    el.timerNote.textContent = this.list.connected ? now : `${now} Changing it waits for the connection.`;
  }

  drawPicture(contact) {
    const { picture, pictureLabel } = this.el;
    const url = this.details?.picture;
    // Without a number there is no picture to ask for: the list's placeholder.
    const state = !contact.phone
      ? 'none'
      : this.details
        ? contact.picture_state
        : this.loading
          ? 'loading'
          : contact.picture_state;
    picture.dataset.picture = state;
    pictureLabel.textContent =
      state === 'hidden' ? 'Picture hidden by their privacy settings' : state === 'none' ? 'No profile picture' : '';
    if (url) {
      const img = document.createElement('img');
      img.src = url;
      img.alt = `Profile picture of ${displayName(contact)}`;
      picture.replaceChildren(img);
      return;
    }
    if (state === 'hidden' || state === 'none') {
      picture.replaceChildren();
      return;
    }
    const letter = document.createElement('span');
    letter.className = 'picture-initial';
    letter.textContent = initial(displayName(contact));
    picture.replaceChildren(letter);
  }

  drawAbout(contact) {
    const { about, aboutSet } = this.el;
    aboutSet.textContent = '';
    aboutSet.removeAttribute('datetime');
    about.dataset.state = contact.about_state;
    if (contact.about_state === 'hidden') {
      about.textContent = 'Hidden by their privacy settings';
    } else if (contact.about_state === 'shown') {
      about.textContent = contact.about || '(empty)';
      if (contact.about_set_at) {
        aboutSet.dateTime = new Date(contact.about_set_at * 1000).toISOString();
        aboutSet.textContent = `set ${localTime(contact.about_set_at)}`;
      }
    } else if (!contact.phone) {
      about.textContent = `Not available: ${ONLY_LID}`;
    } else {
      about.textContent = this.loading ? 'Loading…' : this.list.connected ? 'Not loaded' : 'Not loaded (offline)';
    }
  }
}
