// The "Check & resolve" tab: paste or load a list, preview what each line
// reads as (no network), start a paced check (or resolve it among one
// group's members), follow its progress, page through the answers, sort
// them, and act on them: add to contacts, block, copy, export. The job
// itself lives in the app: closing the window loses nothing.
//
// Three panels: `preview.js` (the input card), `job.js` (the running
// check) and `results.js` (its answers); this wires them to the snapshot.

import { $ } from '../dom.js';
import { Preview } from './preview.js';
import { Job } from './job.js';
import { Results } from './results.js';

export class ImportPanel {
  /// `onGroupsChanged()`: people were added to a group (or removed again).
  constructor({ onGroupsChanged } = {}) {
    this.job = new Job();
    this.results = new Results({ onGroupsChanged });
    this.preview = new Preview({
      onStarted: () => {
        this.results.restart();
        $('job').scrollIntoView({ block: 'start' });
      },
    });
    /// The job of the last snapshot, to tell when another one starts.
    this.progress = null;
  }

  /// Follows the session snapshot: its check (if any) and the connection.
  render(progress, connected) {
    this.preview.setConnected(connected);
    this.results.setConnected(connected);
    if (!progress) return;
    const jobChanged = progress.job !== this.progress?.job;
    this.progress = progress;
    this.job.render(progress, connected, jobChanged);
    this.results.render(progress, jobChanged);
  }
}
