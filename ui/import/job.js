// Check & resolve, the running check: its state and progress, the pace it
// keeps (and WhatsApp's requests to slow down), pause, resume and cancel.

import { invoke } from '../ipc.js';
import { $, say } from '../dom.js';
import { duration, unixNow } from '../format.js';

export class Job {
  constructor() {
    this.el = {
      job: $('job'),
      jobId: $('job-id'),
      jobState: $('job-state'),
      pause: $('job-pause'),
      cancel: $('job-cancel'),
      progress: $('job-progress'),
      jobText: $('job-text'),
      backoff: $('job-backoff'),
      message: $('job-message'),
      jobRate: $('job-rate'),
      jobRateSet: $('job-rate-set'),
    };
    this.progress = null;

    const el = this.el;
    el.pause.addEventListener('click', () => this.togglePause());
    el.cancel.addEventListener('click', () => this.steer('cancel'));
    el.jobRateSet.addEventListener('click', () => this.setRate());
  }

  /// Draws the job of the session snapshot; `jobChanged` when it is another job.
  render(progress, connected, jobChanged) {
    this.progress = progress;
    const { el } = this;
    el.job.hidden = false;
    el.jobId.textContent = `#${progress.job}`;
    const stateText = {
      running: connected ? 'running' : 'waiting for the connection',
      paused: 'paused',
      cancelled: 'cancelled',
      done: 'done',
    }[progress.state];
    el.jobState.textContent = stateText;
    el.jobState.dataset.state = progress.state;
    el.progress.max = Math.max(1, progress.to_check);
    el.progress.value = progress.checked;
    const parts = [
      `${progress.checked} of ${progress.to_check} checked`,
      `${progress.on_whatsapp} on WhatsApp`,
      `${progress.not_on_whatsapp} not`,
    ];
    if (progress.group) parts.unshift(`among the members of ${progress.group}`);
    if (progress.outside_group) parts.push(`${progress.outside_group} not members`);
    if (progress.known) parts.push(`${progress.known} already known`);
    if (progress.failed) parts.push(`${progress.failed} failed`);
    parts.push(`${progress.invalid} invalid, ${progress.duplicates} duplicates skipped`);
    parts.push(progress.rate_per_min === 0 ? 'no pace limit' : `${progress.rate_per_min} a minute`);
    if (progress.eta_secs) parts.push(`about ${duration(progress.eta_secs)} left`);
    el.jobText.textContent = parts.join(' · ');
    el.jobText.dataset.checked = String(progress.checked);
    const waiting = progress.backoff_until ? progress.backoff_until - unixNow() : 0;
    el.backoff.hidden = waiting <= 0;
    el.backoff.textContent = waiting > 0 ? `WhatsApp asked to slow down; continuing in ${waiting} s.` : '';
    const active = progress.state === 'running' || progress.state === 'paused';
    if (jobChanged || document.activeElement !== el.jobRate) el.jobRate.value = String(progress.rate_per_min);
    el.jobRate.disabled = !active;
    el.jobRateSet.disabled = !active;
    el.pause.hidden = !active;
    el.cancel.hidden = !active;
    el.pause.textContent = progress.state === 'paused' ? 'Resume' : 'Pause';
  }

  async steer(intent) {
    if (!this.progress) return;
    try {
      await invoke('steer_check', { job: this.progress.job, intent });
    } catch (error) {
      say(this.el.message, String(error), 'error');
    }
  }

  async setRate() {
    if (!this.progress) return;
    try {
      const rate = Number(this.el.jobRate.value);
      await invoke('set_check_rate', { job: this.progress.job, rate });
      say(this.el.message, rate === 0 ? 'Pace limit lifted.' : `Pace set to ${rate} a minute.`, 'ok');
    } catch (error) {
      say(this.el.message, String(error), 'error');
    }
  }

  togglePause() {
    this.steer(this.progress?.state === 'paused' ? 'resume' : 'pause');
  }
}
