import { describe, expect, it, vi } from 'vitest';
import type { Pixel } from '../src/pixel.js';
import { fakeFetch, isolatePixels, settle } from './helpers.js';

/** The pre-load stub exactly as the README tells sites to paste it. */
const STUB =
  'window.Pruuv=window.Pruuv||{q:[]};["init","track","consent","getAttribution"].forEach(function(m){Pruuv[m]=Pruuv[m]||function(){var a=arguments;return new Promise(function(r){Pruuv.q.push([m,a,r])})}})';

/** The queue stub analytics snippets use: a function that pushes its argument lists (issue 13 item 5). */
const FUNCTION_STUB = 'window.Pruuv=window.Pruuv||function(){(Pruuv.q=Pruuv.q||[]).push(arguments)}';

type Global = Pixel & { q?: unknown[]; v?: number };
type FunctionStub = Global & ((method: string, ...args: unknown[]) => void);
const w = window as unknown as { Pruuv?: Global };

/** Runs the script-tag entry as if `<script src=… data-…>` had loaded it. */
async function loadScript(data: Record<string, string> = {}, src = 'https://collect.example.com/s.js') {
  const script = document.createElement('script');
  script.src = src;
  for (const [k, v] of Object.entries(data)) script.dataset[k] = v;
  Object.defineProperty(document, 'currentScript', { configurable: true, value: script });
  vi.resetModules();
  await import('../src/global.js');
  delete (document as unknown as Record<string, unknown>).currentScript;
}

describe('script tag (src/global.ts)', () => {
  isolatePixels('https://www.example.com/?gclid=G1');

  const setup = () => {
    delete w.Pruuv;
    const f = fakeFetch();
    vi.stubGlobal('fetch', f.fetch);
    return f;
  };

  it('replays the stub queue in order, resolving each promise with the real result', async () => {
    const { sent } = setup();
    new Function(STUB)();
    const stub = w.Pruuv as Global;
    const init = stub.init({ site: 'site_q', endpoint: 'https://collect.example.com' });
    const first = stub.track('lead', { reference: 'A' });
    const attribution = stub.getAttribution() as unknown as Promise<unknown>;
    const second = stub.track('sale', { reference: 'B' });
    await loadScript({ site: 'site_attr' });
    await expect(init).resolves.toBeUndefined();
    const [a, b] = await Promise.all([first, second]);
    await expect(attribution).resolves.toMatchObject({ clicks: { gclid: { value: 'G1' } } });
    expect(sent.map((s) => [s.body.stage, s.body.reference, s.body.event_id])).toEqual([
      ['lead', 'A', a.event_id],
      ['sale', 'B', b.event_id],
    ]);
  });

  it('replays a function-style queue in order', async () => {
    const { sent } = setup();
    new Function(FUNCTION_STUB)();
    const stub = w.Pruuv as FunctionStub;
    stub('init', { site: 'site_fn', endpoint: 'https://collect.example.com' });
    stub('track', 'lead', { reference: 'A' });
    stub('track', 'sale', { reference: 'B' });
    await loadScript({ site: 'site_attr' });
    await settle();
    expect(sent.map((s) => [s.body.site, s.body.stage, s.body.reference])).toEqual([
      ['site_fn', 'lead', 'A'],
      ['site_fn', 'sale', 'B'],
    ]);
  });

  it('runs function-style calls made after the script loaded', async () => {
    const { sent } = setup();
    new Function(FUNCTION_STUB)();
    await loadScript({ site: 'site_attr' });
    const stub = w.Pruuv as FunctionStub;
    stub('track', 'late', { reference: 'L' });
    await settle();
    expect(sent.map((s) => [s.body.site, s.body.stage, s.body.reference])).toEqual([['site_attr', 'late', 'L']]);
    expect(stub.getAttribution()).toMatchObject({ clicks: { gclid: { value: 'G1' } } });
  });

  it('lets a function-style queued init win over data attributes', async () => {
    const { sent } = setup();
    new Function(FUNCTION_STUB)();
    (w.Pruuv as FunctionStub)('init', { site: 'explicit' });
    (w.Pruuv as FunctionStub)('track', 'lead');
    await loadScript({ site: 'from_attribute', endpoint: 'https://attr.example.com' });
    await settle();
    expect(sent.map((s) => [s.url, s.body.site])).toEqual([['https://attr.example.com/e', 'explicit']]);
  });

  it('lets a queued init win over data attributes', async () => {
    const { sent } = setup();
    new Function(STUB)();
    void w.Pruuv?.init({ site: 'explicit' } as never);
    const pending = w.Pruuv?.track('lead');
    await loadScript({ site: 'from_attribute', endpoint: 'https://attr.example.com' });
    await pending;
    expect(sent.map((s) => [s.url, s.body.site])).toEqual([['https://attr.example.com/e', 'explicit']]);
  });

  it('initialises from data attributes, defaulting the endpoint to the script origin', async () => {
    const { sent } = setup();
    await loadScript({ site: 'site_attr' }, 'https://cdn-collector.example.net/s.js');
    expect(w.Pruuv?.v).toBe(1);
    await w.Pruuv?.track('lead');
    expect(sent.map((s) => [s.url, s.body.site])).toEqual([['https://cdn-collector.example.net/e', 'site_attr']]);
  });

  it('initialises a later Pruuv.init with the script origin as endpoint', async () => {
    const { sent } = setup();
    await loadScript();
    w.Pruuv?.init({ site: 'late' } as never);
    await w.Pruuv?.track('lead');
    expect(sent.map((s) => s.url)).toEqual(['https://collect.example.com/e']);
  });

  it('rejects a queued call that throws and goes on with the replay', async () => {
    const { sent } = setup();
    new Function(STUB)();
    const bad = w.Pruuv?.init({} as never) as unknown as Promise<void>;
    const good = w.Pruuv?.init({ site: 'ok' } as never) as unknown as Promise<void>;
    const tracked = w.Pruuv?.track('lead');
    await loadScript();
    await expect(bad).rejects.toThrow(/\[pruuv\]/);
    await expect(good).resolves.toBeUndefined();
    await tracked;
    expect(sent).toHaveLength(1);
  });

  it('does nothing when loaded twice', async () => {
    const { sent } = setup();
    await loadScript({ site: 'site_attr' });
    const first = w.Pruuv;
    const track = first?.track;
    await loadScript({ site: 'other' });
    expect(w.Pruuv).toBe(first);
    expect(w.Pruuv?.track).toBe(track);
    await w.Pruuv?.track('lead');
    await settle();
    expect(sent.map((s) => s.body.site)).toEqual(['site_attr']);
  });

  it('waits for an init when there is no data-site', async () => {
    const { sent } = setup();
    await loadScript();
    await expect(w.Pruuv?.track('lead')).rejects.toThrow(/before init/);
    expect(sent).toEqual([]);
  });
});
