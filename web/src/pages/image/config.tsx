import { type ComponentChildren, Fragment } from 'preact';
import type { Manifest } from '../../api';
import { Time } from '../../ui';

export function KeyValues({ caption, values }: { caption: string; values: Record<string, string> }) {
  return (
    <div class="table-wrap">
      <table class="responsive kv">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(values).map(([k, v]) => (
            <tr key={k}>
              <th scope="row" data-label="Key">
                <code>{k}</code>
              </th>
              <td data-label="Value" class="break">
                {v}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export const cmd = (v: string[] | null | undefined) => (v?.length ? JSON.stringify(v) : undefined);

const seconds = (ns: number | undefined) => (ns ? `${Math.round(ns / 1e9)}s` : undefined);

/** `CMD-SHELL curl -f …` plus the timings that are set, as `docker inspect` users know them. */
function healthcheckText(hc: NonNullable<NonNullable<Manifest['config']>['healthcheck']>): string {
  const timing = [
    ['every', seconds(hc.interval)],
    ['timeout', seconds(hc.timeout)],
    ['start period', seconds(hc.startPeriod)],
    ['retries', hc.retries ? String(hc.retries) : undefined],
  ]
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`);
  return `${hc.test.join(' ')}${timing.length ? ` (${timing.join(', ')})` : ''}`;
}

export function ConfigView({ config }: { config: NonNullable<Manifest['config']> }) {
  const hc = config.healthcheck;
  const rows: [string, ComponentChildren][] = [
    ['Platform', [config.os, config.architecture].filter(Boolean).join('/') || undefined],
    ['Created', config.created ? <Time at={config.created} /> : undefined],
    ['Entrypoint', cmd(config.entrypoint)],
    ['Command', cmd(config.cmd)],
    ['User', config.user || <span class="warn-text">root (no user set)</span>],
    ['Working directory', config.workingDir],
    [
      'Healthcheck',
      hc?.test?.length ? <code class="break">{healthcheckText(hc)}</code> : <span class="muted">none</span>,
    ],
  ];
  return (
    <section aria-labelledby="config-title" data-testid="config">
      <h3 id="config-title">Configuration</h3>
      <dl class="facts">
        {rows
          .filter(([, v]) => v !== undefined && v !== '')
          .map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k}</dt>
              <dd>{typeof v === 'string' ? <code class="break">{v}</code> : v}</dd>
            </Fragment>
          ))}
      </dl>
      {config.env && config.env.length > 0 && (
        <div class="table-wrap">
          <table class="responsive kv" data-testid="env">
            <caption>Environment</caption>
            <thead>
              <tr>
                <th scope="col">Variable</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {config.env.map((e) => {
                const i = e.indexOf('=');
                return (
                  <tr key={e}>
                    <th scope="row" data-label="Variable">
                      <code>{i < 0 ? e : e.slice(0, i)}</code>
                    </th>
                    <td data-label="Value" class="break">
                      {i < 0 ? '' : e.slice(i + 1)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {config.labels && Object.keys(config.labels).length > 0 && (
        <KeyValues caption="Labels" values={config.labels} />
      )}
    </section>
  );
}
