// The marked rows of the contact list and what can be done to them at
// once: block or unblock them all (a block asks first, as the row's toggle
// does), add them to a community or group (`add_numbers_to_group`, the
// check results' dialog and words, Undo through `undo_group_add`), or
// clear the marks. The app carries the action out paced, as one
// bulk action, and its outcome lands in the list's notice, with Undo for a
// block.

import { $, confirmation, say } from './dom.js';
import { chooseGroupIn, tallyWords } from './import/add_to_group.js';
import { invoke } from './ipc.js';
import { displayName, plural } from './format.js';
import { targetOf } from './contacts.js';

/// Names quoted in the confirmation before "and N more".
const NAMED = 3;

export class MarkedBar {
  /// `notice(text, undo)`: shows an outcome in the list's notice, with an
  /// Undo that runs `undo()` (none when null). `onDone()`: the list changed.
  constructor({ list, notice, onDone, onError }) {
    Object.assign(this, { list, notice, onDone, onError });
    this.el = {
      bar: $('list-marks'),
      count: $('list-marks-count'),
      block: $('marks-block'),
      unblock: $('marks-unblock'),
      clear: $('marks-clear'),
      title: $('confirm-marked-title'),
      body: $('confirm-marked-body'),
      addGroup: $('marks-add-group'),
      dialog: $('marks-group'),
      target: $('marks-group-target'),
      note: $('marks-group-note'),
      ok: $('marks-group-ok'),
      cancel: $('marks-group-cancel'),
    };
    /// The groups the dialog offers.
    this.groups = [];
    this.busy = false;
    this.connected = false;
    this.askToBlock = confirmation(
      { dialog: $('confirm-marked'), ok: $('confirm-marked-ok'), cancel: $('confirm-marked-cancel') },
      () => this.apply(true),
    );
    this.el.block.addEventListener('click', () => this.block());
    this.el.unblock.addEventListener('click', () => this.apply(false));
    this.el.clear.addEventListener('click', () => list.clearMarks());
    const el = this.el;
    el.addGroup.addEventListener('click', () => this.chooseGroup());
    el.cancel.addEventListener('click', () => el.dialog.close('cancel'));
    el.ok.addEventListener('click', () => el.dialog.close('ok'));
    el.dialog.addEventListener('close', () => {
      if (el.dialog.returnValue === 'ok') this.addToGroup();
      el.dialog.returnValue = '';
    });
  }

  setConnected(connected) {
    this.connected = connected;
    this.draw();
  }

  /// Redraws the bar for the list's marks.
  draw() {
    const { el } = this;
    const n = this.list.marked.size;
    el.bar.hidden = n === 0;
    el.count.textContent = `${plural(n, 'person', 'people')} marked`;
    for (const button of [el.block, el.unblock, el.addGroup]) {
      button.disabled = this.busy || !this.connected;
      button.title = this.connected ? '' : 'Not connected';
    }
    el.clear.disabled = this.busy;
  }

  /// The dialog that picks the community or group.
  async chooseGroup() {
    const { el } = this;
    if (this.busy || !this.connected || this.list.marked.size === 0) return;
    this.groups = await chooseGroupIn(el);
  }

  async addToGroup() {
    const group = this.el.target.value;
    if (!group || this.busy || this.list.marked.size === 0) return;
    const people = [...this.list.marked.values()].map(targetOf);
    const subject = this.groups.find((g) => g.jid === group)?.subject ?? group;
    await this.runGroup('add_numbers_to_group', { group, targets: people }, subject, `Adding ${plural(people.length, 'person', 'people')} to ${subject}…`);
  }

  async runGroup(command, args, subject, doing) {
    this.busy = true;
    this.draw();
    this.notice(doing, null);
    try {
      const outcome = await invoke(command, args);
      if (!outcome.undo) this.list.clearMarks();
      const noun = this.groups.find((g) => g.jid === outcome.group)?.is_community ? 'community' : 'group';
      const added = outcome.items.filter((i) => i.outcome === 'added').length;
      const undo =
        !outcome.undo && added > 0
          ? () => this.runGroup('undo_group_add', { action: outcome.action }, subject, `Removing those added to ${subject}…`)
          : null;
      this.notice(`${subject}: ${tallyWords(outcome)}. The ${noun} now has ${plural(outcome.members, 'member')}.`, undo);
    } catch (error) {
      this.notice('', null);
      this.onError(`Could not add the marked people to ${subject}: ${error}`);
    } finally {
      this.busy = false;
      this.draw();
      this.onDone();
    }
  }

  /// Block asks first when the operator's setting says so.
  block() {
    if (!this.list.confirmBlocks) return this.apply(true);
    const rows = [...this.list.marked.values()];
    const names = rows.slice(0, NAMED).map(displayName).join(', ');
    const more = rows.length > NAMED ? ` and ${rows.length - NAMED} more` : '';
    this.el.title.textContent = `Block ${plural(rows.length, 'person', 'people')}?`;
    this.el.body.textContent =
      `${names}${more} will not be able to call or message this account. ` +
      'Undo unblocks exactly those this blocks.';
    this.askToBlock();
  }

  async apply(block) {
    if (this.busy || !this.connected || this.list.marked.size === 0) return;
    const people = [...this.list.marked.values()].map(targetOf);
    this.busy = true;
    this.draw();
    this.notice(`${block ? 'Blocking' : 'Unblocking'} ${plural(people.length, 'person', 'people')}…`, null);
    try {
      const outcome = await invoke('set_blocked_many', { people, block });
      this.list.clearMarks();
      this.report(outcome);
    } catch (error) {
      this.notice('', null);
      this.onError(`Could not ${block ? 'block' : 'unblock'} the marked people: ${error}`);
    } finally {
      this.busy = false;
      this.draw();
      this.onDone();
    }
  }

  /// "Blocked 3 people; 1 failed (+44 …: not on WhatsApp).", with Undo for a block.
  report(outcome) {
    const verb = outcome.kind === 'block' ? 'Blocked' : 'Unblocked';
    let text = `${verb} ${plural(outcome.done, 'person', 'people')}`;
    if (outcome.failed > 0) {
      const why = outcome.errors.map(([who, reason]) => `${who}: ${reason}`).join('; ');
      text += `; ${outcome.failed} failed (${why})`;
    }
    const undo = outcome.kind === 'block' && outcome.done > 0 ? () => this.undo(outcome.action) : null;
    this.notice(`${text}.`, undo);
  }

  async undo(action) {
    this.notice('Unblocking them again…', null);
    try {
      this.report(await invoke('undo_bulk', { action }));
    } catch (error) {
      this.notice('', null);
      this.onError(`Could not undo: ${error}`);
    }
    this.onDone();
  }
}
