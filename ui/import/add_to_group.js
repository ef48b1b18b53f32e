// Check & resolve, adding a check's people to a community or group: the
// dialog that picks the group (from the `groups` command) and who (the
// selected lines or every checked line), the job (`add_checked_to_group`,
// which the app paces and saves), each person's outcome for the results
// table (with the invite WhatsApp holds for those whose privacy asks for
// one), and Undo
// (`undo_group_add`), which removes exactly those added.

import { invoke } from '../ipc.js';
import { $, say } from '../dom.js';
import { localTime, plural } from '../format.js';

/// What adding one person did, in words ("Makers" is the group's subject).
export function outcomeWords(item, subject) {
  switch (item.outcome) {
    case 'pending':
      return `waiting to be added to ${subject}`;
    case 'added':
      return `added to ${subject}`;
    case 'already_member':
      return `already a member of ${subject}`;
    case 'invite_needed':
      return 'invite needed: their privacy settings only let their contacts add them';
    case 'not_on_whatsapp':
      return 'not on WhatsApp, not added';
    case 'recently_left':
      return `left ${subject} lately; WhatsApp does not let them be added back yet`;
    case 'group_full':
      return `not added: ${subject} is full`;
    case 'removed':
      return `removed from ${subject} again (Undo)`;
    case 'failed':
      return item.code ? `failed: WhatsApp answered ${item.code}` : 'failed: nothing could be sent for them';
    default:
      return item.outcome;
  }
}

/// Opens a "which community or group" dialog (`el`: its `dialog`,
/// `target` select, `note`, `ok` and `cancel`) and fills it from the app's
/// list; returns the groups offered ([] when they could not be read).
export async function chooseGroupIn(el) {
  say(el.note, 'Reading the groups…');
  el.ok.disabled = true;
  el.dialog.showModal();
  el.cancel.focus();
  try {
    const { offered, any } = fillGroupChoice(el.target, await invoke('groups'), el.target.value);
    say(el.note, any ? '' : 'This account is an admin of no group, so it cannot add anyone.', any ? 'info' : 'error');
    el.ok.disabled = !any;
    return offered;
  } catch (error) {
    say(el.note, String(error), 'error');
    return [];
  }
}

/// Offers the groups the account may add people to in `select` (the rest
/// disabled, saying why), keeping `keep` chosen if it still may. Returns
/// the groups offered and whether any may be chosen.
function fillGroupChoice(select, groups, keep) {
  // Membership lives on a community's parent group; its announcement
  // group is the community itself, so it is not offered twice.
  const offered = groups.filter((g) => !g.announcement_group);
  select.replaceChildren(
    ...offered.map((g) => {
      const kind = g.is_community ? 'community' : 'group';
      const admin = g.role !== 'member';
      const option = new Option(`${g.subject} (${kind}, ${plural(g.members, 'member')})${admin ? '' : ' — not an admin'}`, g.jid);
      option.disabled = !admin;
      return option;
    }),
  );
  const first = offered.find((g) => g.role !== 'member');
  select.value = offered.some((g) => g.jid === keep && g.role !== 'member') ? keep : first?.jid ?? '';
  return { offered, any: first !== undefined };
}

/// "3 added, 1 already a member, …": each outcome that happened, counted.
export function tallyWords(outcome) {
  const counts = new Map();
  for (const item of outcome.items) counts.set(item.outcome, (counts.get(item.outcome) ?? 0) + 1);
  const words = {
    added: (n) => `${n} added`,
    removed: (n) => `${n} removed`,
    already_member: (n) => `${n} already ${n === 1 ? 'a member' : 'members'}`,
    invite_needed: (n) => `${n} need${n === 1 ? 's' : ''} an invite`,
    not_on_whatsapp: (n) => `${n} not on WhatsApp`,
    recently_left: (n) => `${n} left lately`,
    group_full: (n) => `${n} not added, the group is full`,
    failed: (n) => `${n} failed`,
    pending: (n) => `${n} still waiting`,
  };
  return [...counts].map(([kind, n]) => (words[kind] ?? ((m) => `${m} ${kind}`))(n)).join(', ');
}

/// The invite WhatsApp held for a person whose privacy refused the add:
/// until when, and "Send invite" (`send(item)`), or when it was sent.
export function inviteNote(item, send) {
  const span = document.createElement('span');
  span.className = 'add-invite';
  span.dataset.expires = String(item.invite_expiration);
  span.append(` WhatsApp holds an invite for them until ${localTime(item.invite_expiration)}. `);
  if (item.invite_sent_at) {
    span.dataset.sent = String(item.invite_sent_at);
    span.append(`Invite sent ${localTime(item.invite_sent_at)}.`);
    return span;
  }
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button link-button send-invite';
  button.textContent = 'Send invite';
  button.addEventListener('click', () => {
    button.disabled = true;
    send(item);
  });
  span.append(button);
  return span;
}

export class AddToGroup {
  /// `results`: the Results panel (its job, selection and redraws).
  constructor(results) {
    this.results = results;
    this.el = {
      open: $('job-group-add'),
      undo: $('job-group-undo'),
      message: $('job-group-message'),
      dialog: $('add-to-group'),
      target: $('add-to-group-target'),
      selected: $('add-to-group-selected'),
      selectedLabel: $('add-to-group-selected-label'),
      all: $('add-to-group-all'),
      allLabel: $('add-to-group-all-label'),
      note: $('add-to-group-note'),
      ok: $('add-to-group-ok'),
      cancel: $('add-to-group-cancel'),
    };
    /// The groups the dialog offers, as the app listed them.
    this.groups = [];
    /// The last job's outcome per check line, and the job (for Undo).
    this.byLine = new Map();
    this.last = null;
    this.subject = '';
    this.busy = false;

    const el = this.el;
    el.open.addEventListener('click', () => this.open());
    el.cancel.addEventListener('click', () => el.dialog.close('cancel'));
    el.ok.addEventListener('click', () => el.dialog.close('ok'));
    el.dialog.addEventListener('close', () => {
      if (el.dialog.returnValue === 'ok') this.add();
      el.dialog.returnValue = '';
    });
    el.undo.addEventListener('click', () => this.undo());
  }

  /// Another check: its outcomes are not these.
  reset() {
    this.byLine.clear();
    this.last = null;
    this.el.undo.hidden = true;
    say(this.el.message, '');
  }

  isBusy() {
    return this.busy;
  }

  /// The button's state, drawn with the results' other buttons.
  draw(busy, connected, hasJob) {
    const { el } = this;
    el.open.disabled = busy || this.busy || !connected || !hasJob;
    el.undo.disabled = busy || this.busy || !connected;
  }

  /// The outcome of `line` in the last job, in words, or null.
  noteFor(line) {
    const item = this.byLine.get(line);
    return item ? { item, text: outcomeWords(item, this.subject) } : null;
  }

  /// Sends a person of the last job their invite; the row shows it sent.
  async sendInvite(item) {
    if (!this.last) return;
    try {
      const sent = await invoke('send_group_invite', { action: this.last.action, seq: item.seq });
      if (sent.line !== null) this.byLine.set(sent.line, sent);
      say(this.el.message, `Invite to ${this.subject} sent.`, 'ok');
    } catch (error) {
      say(this.el.message, `Could not send the invite: ${error}`, 'error');
    }
    this.results.refreshRows(true);
  }

  async open() {
    const { el } = this;
    const progress = this.results.progress;
    if (!progress) return;
    const count = this.results.selected.size;
    el.selectedLabel.textContent = `The ${plural(count, 'selected line')}`;
    el.selected.disabled = count === 0;
    el.allLabel.textContent = `Every checked line (${progress.on_whatsapp} on WhatsApp; the others are noted, not sent)`;
    if (count === 0) el.all.checked = true;
    else el.selected.checked = true;
    this.groups = await chooseGroupIn(el);
  }

  add() {
    const progress = this.results.progress;
    const group = this.el.target.value;
    if (!progress || !group) return;
    const lines = this.el.all.checked ? null : this.results.selectedLines();
    this.subject = this.groups.find((g) => g.jid === group)?.subject ?? group;
    this.run('add_checked_to_group', { group, job: progress.job, lines }, `Adding them to ${this.subject}…`);
  }

  undo() {
    if (!this.last) return;
    this.run('undo_group_add', { action: this.last.action }, `Removing those added to ${this.subject}…`);
  }

  async run(command, args, doing) {
    const { el } = this;
    this.busy = true;
    this.results.drawBulkButtons();
    say(el.message, doing);
    try {
      const outcome = await invoke(command, args);
      if (!outcome.undo) this.byLine.clear();
      for (const item of outcome.items) if (item.line !== null) this.byLine.set(item.line, item);
      this.last = outcome.undo ? null : outcome;
      const tally = tallyWords(outcome);
      const group = this.groups.find((g) => g.jid === outcome.group);
      const noun = group?.is_community ? 'community' : 'group';
      const text = `${this.subject}: ${tally}. The ${noun} now has ${plural(outcome.members, 'member')}.`;
      say(el.message, text, outcome.items.some((i) => i.outcome === 'failed') ? 'error' : 'ok');
      el.message.dataset.members = String(outcome.members);
      const added = outcome.items.filter((i) => i.outcome === 'added').length;
      el.undo.hidden = outcome.undo || added === 0;
      el.undo.textContent = `Undo adding (remove ${added})`;
      if (!outcome.undo) this.results.selected.clear();
      this.results.refreshRows(true);
      this.results.onGroupsChanged();
    } catch (error) {
      say(el.message, String(error), 'error');
    } finally {
      this.busy = false;
      this.results.drawBulkButtons();
    }
  }
}
