// The detail panel: one contact's picture, about (with when it was set)
// and block state. Blocking here goes through the list's optimistic toggle,
// so the row and the panel always agree.

import { invoke } from './ipc.js';
import { keyOf } from './contacts.js';
import { $ } from './dom.js';
import { ONLY_LID, displayName, initial, localTime } from './format.js';

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
    };
    this.el.toggle.addEventListener('click', () => this.row && this.list.toggle(this.row));
  }

  show(row) {
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
