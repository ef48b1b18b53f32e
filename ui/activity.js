// The activity log (Account & sync tab): every operator action with its
// time and outcome, as the app recorded it; newest first, exportable.

import { invoke } from './ipc.js';
import { $, cell, say, sayExported } from './dom.js';
import { plural } from './format.js';

const SHOWN = 200;
const OUTCOME = { started: 'no outcome (in progress or cut short)', done: 'done', failed: 'failed' };

export class ActivityLog {
  constructor() {
    this.el = { rows: $('activity-rows'), count: $('activity-count'), refresh: $('activity-refresh'), exportButton: $('activity-export'), message: $('activity-message') };
    this.el.refresh.addEventListener('click', () => this.load());
    this.el.exportButton.addEventListener('click', () => this.exportCsv());
  }

  async load() {
    const { el } = this;
    try {
      const page = await invoke('audit_log', { offset: 0, limit: SHOWN });
      el.count.textContent = page.total > SHOWN ? `latest ${SHOWN} of ${page.total}` : plural(page.total, 'action');
      el.rows.replaceChildren(
        ...page.rows.map((e) => {
          const tr = document.createElement('tr');
          tr.dataset.action = e.action;
          tr.dataset.outcome = e.outcome;
          tr.append(
            cell(new Date(e.at * 1000).toLocaleString()),
            cell(e.action),
            cell(e.target, 'mono'),
            cell(OUTCOME[e.outcome] ?? e.outcome, `outcome-${e.outcome}`),
            cell(e.detail, 'muted'),
          );
          return tr;
        }),
      );
    } catch (error) {
      say(el.message, `Cannot read the activity log: ${error}`, 'error');
    }
  }

  exportCsv() {
    return sayExported(this.el.message, invoke('export_audit'));
  }
}
