// The Groups tab: the account's groups and communities (a community with
// its linked groups under it), searchable, each with its member count, the
// account's role and its disappearing-message timer; the selected one's
// members and its timer setting. The app decides what is allowed; this
// renders its answers and refusals.
//
// Rows come from the `groups` command (GroupSummary), members from
// `group_members` (GroupMemberRow); `set_group_timer` answers with the
// group as it is afterwards. Adding people from the panel: `group_add.js`.

import { invoke } from './ipc.js';
import { $, say } from './dom.js';
import { ONLY_LID, duration, plural } from './format.js';
import { GroupAdd } from './group_add.js';

/// The timers WhatsApp offers for a group, in words.
const TIMERS = new Map([
  [0, 'Off'],
  [86400, '24 hours'],
  [604800, '7 days'],
  [7776000, '90 days'],
]);

/// A timer in words: "Off", "7 days", or a custom length.
export function timerWords(seconds) {
  return TIMERS.get(seconds) ?? duration(seconds);
}

/// The account's role in words.
export function roleWords(role) {
  return { superadmin: 'Owner', admin: 'Admin', member: 'Member' }[role] ?? role;
}

/// What kind of group this is, in words.
function kindWords(g) {
  if (g.is_community) return 'Community';
  if (g.announcement_group) return "Community's announcements";
  if (g.parent) return 'Group in a community';
  return 'Group';
}

/// Someone in a group: the directory's name, else their number, else that only their LID is known.
export function memberName(m) {
  return m.name || m.phone_shown || ONLY_LID;
}

/// Why the account may not change this group's settings, or null if it may.
function settingsRefusal(g) {
  if (g.locked && g.role === 'member') {
    return `Only admins may change the settings of "${g.subject}", and this account is a member there.`;
  }
  return null;
}

export class GroupsView {
  constructor() {
    this.el = {
      view: $('groups-view'),
      search: $('groups-search'),
      count: $('groups-count'),
      refresh: $('groups-refresh'),
      message: $('groups-message'),
      list: $('groups-list'),
      empty: $('groups-empty'),
      groupEmpty: $('group-empty'),
      body: $('group-body'),
      subject: $('group-subject'),
      kind: $('group-kind'),
      membersCount: $('group-members-count'),
      role: $('group-role'),
      settings: $('group-settings'),
      timer: $('group-timer'),
      timerButtons: [...$('group-timer').querySelectorAll('button[data-seconds]')],
      custom: $('group-timer-custom'),
      customSeconds: $('group-timer-seconds'),
      customSet: $('group-timer-set'),
      timerNote: $('group-timer-note'),
      timerMessage: $('group-timer-message'),
      members: $('group-members'),
      membersMessage: $('group-members-message'),
    };
    /// The groups as the app last listed them.
    this.groups = [];
    this.loaded = false;
    this.loading = null;
    this.selected = null;
    this.members = null;
    this.busy = false;
    this.connected = false;
    this.adding = new GroupAdd(() => this.selected && this.loadMembers());

    const el = this.el;
    for (const type of ['input', 'change', 'search']) el.search.addEventListener(type, () => this.drawList());
    el.refresh.addEventListener('click', () => this.load());
    el.list.addEventListener('click', (event) => {
      const row = event.target.closest('[data-jid]');
      if (row) this.select(row.dataset.jid);
    });
    for (const button of el.timerButtons) {
      button.addEventListener('click', () => this.setTimer(Number(button.dataset.seconds)));
    }
    el.custom.addEventListener('submit', (event) => {
      event.preventDefault();
      const seconds = Number(el.customSeconds.value);
      if (!Number.isInteger(seconds) || seconds < 0) {
        say(el.timerMessage, 'Type a whole number of seconds.', 'error');
        return;
      }
      this.setTimer(seconds);
    });
  }

  setConnected(connected) {
    if (connected === this.connected) return;
    this.connected = connected;
    if (this.selected) this.drawDetail();
  }

  /// The tab was opened: read the groups the first time.
  shown() {
    if (!this.loaded) this.load();
  }

  /// A group changed elsewhere (the snapshot's `groups_version`): read again
  /// if the list was read before, and the open group's members too.
  changed() {
    if (!this.loaded) return;
    this.load().then(() => this.selected && this.loadMembers());
  }

  load() {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        this.groups = await invoke('groups');
        this.loaded = true;
        say(this.el.message, '');
      } catch (error) {
        say(this.el.message, String(error), 'error');
      } finally {
        this.loading = null;
      }
      this.drawList();
      if (this.selected) this.drawDetail();
    })();
    return this.loading;
  }

  byJid(jid) {
    return this.groups.find((g) => g.jid === jid) ?? null;
  }

  /// Communities first with their linked groups under them, then the
  /// groups of no community; those the search matches (a community shows
  /// when it or one of its groups matches).
  visible() {
    const query = this.el.search.value.trim().toLocaleLowerCase();
    const matches = (g) => !query || g.subject.toLocaleLowerCase().includes(query);
    const bySubject = (a, b) => a.subject.localeCompare(b.subject);
    const out = [];
    const placed = new Set();
    for (const c of this.groups.filter((g) => g.is_community).sort(bySubject)) {
      const linked = this.groups
        .filter((g) => g.parent === c.jid || c.linked_groups.includes(g.jid))
        .filter((g) => g.jid !== c.jid)
        .sort((a, b) => Number(b.announcement_group) - Number(a.announcement_group) || bySubject(a, b));
      for (const g of linked) placed.add(g.jid);
      placed.add(c.jid);
      const shownLinked = matches(c) ? linked : linked.filter(matches);
      if (matches(c) || shownLinked.length > 0) {
        out.push({ group: c, linked: false });
        for (const g of shownLinked) out.push({ group: g, linked: true });
      }
    }
    for (const g of this.groups.filter((g) => !placed.has(g.jid)).sort(bySubject)) {
      if (matches(g)) out.push({ group: g, linked: false });
    }
    return out;
  }

  drawList() {
    const { el } = this;
    const rows = this.visible();
    el.list.replaceChildren(...rows.map((r) => this.row(r)), el.empty);
    const communities = this.groups.filter((g) => g.is_community).length;
    const groups = this.groups.length - communities;
    el.count.textContent = this.loaded ? `${plural(communities, 'community', 'communities')}, ${plural(groups, 'group')}` : '';
    el.empty.hidden = rows.length > 0 || !this.loaded;
    el.empty.textContent = this.groups.length === 0 ? 'This account is in no group.' : 'No group or community matches.';
  }

  row({ group: g, linked }) {
    const row = document.createElement('button');
    row.type = 'button';
    row.className = 'group-row';
    row.dataset.jid = g.jid;
    row.dataset.members = String(g.members);
    row.dataset.role = g.role;
    row.dataset.timer = String(g.timer);
    if (g.is_community) row.dataset.community = 'true';
    if (linked) row.dataset.linked = 'true';
    row.setAttribute('aria-current', String(g.jid === this.selected));
    const name = document.createElement('span');
    name.className = 'row-name';
    name.textContent = g.subject;
    const sub = document.createElement('span');
    sub.className = 'row-sub';
    const parts = [kindWords(g), plural(g.members, 'member'), roleWords(g.role), `Disappearing messages: ${timerWords(g.timer)}`];
    sub.textContent = parts.join(' · ');
    row.append(name, sub);
    return row;
  }

  select(jid) {
    if (this.selected !== jid) {
      this.selected = jid;
      this.members = null;
      say(this.el.timerMessage, '');
      this.el.customSeconds.value = '';
    }
    for (const row of this.el.list.querySelectorAll('[data-jid]')) {
      row.setAttribute('aria-current', String(row.dataset.jid === jid));
    }
    this.drawDetail();
    this.loadMembers();
  }

  async loadMembers() {
    const jid = this.selected;
    if (!jid) return;
    say(this.el.membersMessage, 'Reading the members…');
    try {
      const members = await invoke('group_members', { group: jid });
      if (this.selected !== jid) return;
      this.members = members;
      say(this.el.membersMessage, '');
    } catch (error) {
      if (this.selected !== jid) return;
      say(this.el.membersMessage, String(error), 'error');
    }
    this.drawMembers();
  }

  drawDetail() {
    const { el } = this;
    const g = this.selected ? this.byJid(this.selected) : null;
    el.groupEmpty.hidden = g !== null;
    el.body.hidden = g === null;
    if (!g) return;
    el.body.dataset.jid = g.jid;
    el.subject.textContent = g.subject;
    el.kind.textContent = kindWords(g);
    el.membersCount.textContent = plural(g.members, 'member');
    el.membersCount.dataset.count = String(g.members);
    el.role.textContent = roleWords(g.role);
    el.settings.textContent = g.locked ? 'Only admins may change them' : 'Every member may change them';
    const refusal = settingsRefusal(g);
    el.timer.dataset.timer = String(g.timer);
    for (const b of el.timerButtons) {
      b.setAttribute('aria-pressed', String(Number(b.dataset.seconds) === g.timer));
      b.disabled = this.busy || refusal !== null || !this.connected;
    }
    el.customSeconds.disabled = refusal !== null || !this.connected;
    el.customSet.disabled = this.busy || refusal !== null || !this.connected;
    const now = TIMERS.has(g.timer) ? `Now: ${timerWords(g.timer)}.` : `Now: ${timerWords(g.timer)} (${g.timer} s).`;
    const why = refusal ?? (this.connected ? '' : 'Changing it waits for the connection.');
    el.timerNote.textContent = why ? `${now} ${why}` : now;
    el.timerNote.dataset.refused = String(refusal !== null);
    this.adding.show(g, this.connected);
    this.drawMembers();
  }

  drawMembers() {
    const { el } = this;
    const members = this.members ?? [];
    el.members.replaceChildren(
      ...members.map((m) => {
        const li = document.createElement('li');
        li.className = 'group-member';
        li.dataset.admin = String(m.admin);
        if (m.phone) li.dataset.phone = m.phone;
        const name = document.createElement('span');
        name.className = 'member-name';
        name.textContent = m.is_me ? `${memberName(m)} (you)` : memberName(m);
        li.append(name);
        if (m.admin) {
          const badge = document.createElement('span');
          badge.className = 'admin-badge';
          badge.textContent = 'Admin';
          li.append(badge);
        }
        if (m.name && m.phone_shown) {
          const sub = document.createElement('span');
          sub.className = 'member-sub';
          sub.textContent = m.phone_shown;
          li.append(sub);
        }
        return li;
      }),
    );
    el.members.dataset.count = this.members ? String(members.length) : '';
  }

  async setTimer(seconds) {
    const jid = this.selected;
    if (!jid || this.busy) return;
    const { el } = this;
    this.busy = true;
    this.drawDetail();
    say(el.timerMessage, seconds === 0 ? 'Turning disappearing messages off…' : `Setting ${timerWords(seconds)}…`);
    try {
      const after = await invoke('set_group_timer', { group: jid, seconds });
      const at = this.groups.findIndex((g) => g.jid === after.jid);
      if (at >= 0) this.groups[at] = after;
      else this.groups.push(after);
      const text =
        after.timer === 0 ? 'Disappearing messages are off.' : `Messages now disappear after ${timerWords(after.timer)}.`;
      say(el.timerMessage, text, 'ok');
    } catch (error) {
      say(el.timerMessage, String(error), 'error');
    } finally {
      this.busy = false;
      this.drawList();
      this.drawDetail();
    }
  }
}
