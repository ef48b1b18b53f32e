// The group panel's "Add people": numbers or LIDs pasted or typed (one a
// line, or separated by commas or semicolons), added to the open group or
// community by the app (`add_numbers_to_group`, a saved, paced job); each
// person's outcome in words, and Undo (`undo_group_add`), which removes
// exactly those it added. Adding to a community adds to its parent group.

import { invoke } from './ipc.js';
import { $, say } from './dom.js';
import { plural } from './format.js';
import { inviteNote, outcomeWords, tallyWords } from './import/add_to_group.js';

export class GroupAdd {
  /// `changed`: called after a job, so the panel reads the group again.
  constructor(changed) {
    this.changed = changed;
    this.el = {
      box: $('group-add'),
      form: $('group-add-form'),
      numbers: $('group-add-numbers'),
      ok: $('group-add-ok'),
      undo: $('group-add-undo'),
      message: $('group-add-message'),
      outcomes: $('group-add-outcomes'),
    };
    /// The open group: { jid, subject, is_community, role }.
    this.group = null;
    this.connected = false;
    this.busy = false;
    /// The last job on the open group, for Undo.
    this.last = null;
    this.el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.add();
    });
    this.el.undo.addEventListener('click', () => this.undoLast());
  }

  /// The panel shows `group` (a GroupSummary); a new group starts blank.
  show(group, connected) {
    if (this.group?.jid !== group.jid) {
      this.last = null;
      this.el.numbers.value = '';
      say(this.el.message, '');
      this.el.outcomes.replaceChildren();
    }
    this.group = group;
    this.connected = connected;
    this.draw();
  }

  draw() {
    const { el, group } = this;
    const admin = group !== null && group.role !== 'member';
    el.box.hidden = !admin;
    el.ok.disabled = this.busy || !this.connected;
    el.ok.title = this.connected ? '' : 'Not connected';
    el.undo.hidden = !(this.last && !this.last.undo && this.last.items.some((i) => i.outcome === 'added'));
    el.undo.disabled = this.busy || !this.connected;
  }

  async add() {
    const targets = this.el.numbers.value
      .split(/[\n,;]/)
      .map((t) => t.trim())
      .filter(Boolean);
    if (targets.length === 0) {
      say(this.el.message, 'Type or paste at least one number or LID.', 'error');
      return;
    }
    const doing = `Adding ${plural(targets.length, 'person', 'people')} to ${this.group.subject}…`;
    await this.run('add_numbers_to_group', { group: this.group.jid, targets }, doing);
  }

  async undoLast() {
    if (!this.last) return;
    await this.run('undo_group_add', { action: this.last.action }, `Removing those added to ${this.group.subject}…`);
  }

  async run(command, args, doing) {
    if (this.busy || !this.group) return;
    const group = this.group;
    this.busy = true;
    this.draw();
    say(this.el.message, doing);
    try {
      const outcome = await invoke(command, args);
      if (this.group?.jid !== group.jid) return;
      this.last = outcome;
      if (!outcome.undo) this.el.numbers.value = '';
      const noun = group.is_community ? 'community' : 'group';
      say(this.el.message, `${tallyWords(outcome)}. The ${noun} now has ${plural(outcome.members, 'member')}.`, 'ok');
      this.drawOutcomes(outcome, group.subject);
    } catch (error) {
      if (this.group?.jid === group.jid) say(this.el.message, String(error), 'error');
    } finally {
      this.busy = false;
      this.draw();
      this.changed();
    }
  }

  /// Sends a person of the last job their invite; their line shows it sent.
  async sendInvite(item) {
    const job = this.last;
    if (!job || !this.group) return;
    try {
      const sent = await invoke('send_group_invite', { action: job.action, seq: item.seq });
      job.items = job.items.map((i) => (i.seq === sent.seq ? sent : i));
      say(this.el.message, `Invite to ${this.group.subject} sent.`, 'ok');
    } catch (error) {
      say(this.el.message, `Could not send the invite: ${error}`, 'error');
    }
    if (this.last === job) this.drawOutcomes(job, this.group.subject);
  }

  drawOutcomes(outcome, subject) {
    this.el.outcomes.replaceChildren(
      ...outcome.items.map((item) => {
        const li = document.createElement('li');
        li.dataset.outcome = item.outcome;
        if (item.phone) li.dataset.phone = item.phone;
        const who = document.createElement('span');
        who.className = 'member-name';
        who.textContent = item.phone_shown ?? (item.lid ? `${item.lid}@lid` : '');
        const what = document.createElement('span');
        what.className = 'member-sub';
        what.textContent = outcomeWords(item, subject);
        if (item.invite_code && item.invite_expiration) {
          what.append(inviteNote(item, (person) => this.sendInvite(person)));
        }
        li.append(who, what);
        return li;
      }),
    );
  }
}
