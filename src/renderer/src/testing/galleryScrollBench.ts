/**
 * The page of `npm run bench:gallery-scroll` (tools/bench/galleryScroll.mjs builds it with the
 * app's Svelte compiler and loads it into Debian's Chromium): the real Gallery component and
 * GalleryState over a stand-in StudioApi that answers listGallery for `total` generations and
 * getImage with a thumbnail PNG, and a scroll driven by requestAnimationFrame that records
 * every frame. Never part of the app.
 */
import { flushSync, mount, unmount } from 'svelte';
import type { GenerationSummary, OperationInput, StudioApi } from '../../../shared/contract';
import Gallery from '../components/Gallery.svelte';
import { GalleryState } from '../state/gallery.svelte';
import { ToastState } from '../state/toasts.svelte';

export interface ScrollRun {
  /** Intervals between consecutive animation frames, ms: what the user sees. */
  frames: number[];
  /** Per frame: setting scrollTop, the component's update and the layout it forces, ms. */
  updates: number[];
  /** Items rendered (with their summary) when the run ended, and the index of the first. */
  rendered: number;
  firstRenderedId: number | null;
  listCalls: number;
  thumbnailCalls: number;
}

export interface GalleryScrollBench {
  mountGallery(total: number): Promise<void>;
  /** Scrolls `frames` frames of `pxPerFrame` each (from the top), one step per animation frame. */
  scroll(frames: number, pxPerFrame: number): Promise<ScrollRun>;
  /** The scroll height of the grid, px. */
  scrollHeight(): number;
}

const PROMPTS = ['a red fox in the snow, oil painting', 'a lighthouse on a cliff at dusk', 'an owl perched on a branch, watercolor', 'a koi pond in a japanese garden'];

/** A thumbnail-sized PNG drawn on a canvas (the bytes getImage would send). */
async function thumbnailPng(hue: number): Promise<Uint8Array> {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  const ctx = canvas.getContext('2d')!;
  const gradient = ctx.createLinearGradient(0, 0, 64, 64);
  gradient.addColorStop(0, `hsl(${hue} 70% 40%)`);
  gradient.addColorStop(1, `hsl(${(hue + 120) % 360} 70% 60%)`);
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, 64, 64);
  const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b!), 'image/png'));
  return new Uint8Array(await blob.arrayBuffer());
}

let mounted: Record<string, unknown> | null = null;
let counters = { list: 0, thumbnails: 0 };

function summary(total: number, index: number): GenerationSummary {
  const id = total - index; // newest first, as the store lists
  return {
    id, createdAt: new Date(1_735_689_600_000 + id * 60_000).toISOString(), modelId: 'models/pixel-32', modelName: 'Pixel 32',
    prompt: PROMPTS[id % PROMPTS.length], solver: 'stsp4', steps: 20, seed: id * 7919, width: 64, height: 64, parentId: null,
  };
}

/** Answers after a macrotask, as a reply from the main process would. */
const later = <T>(value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), 0));

const bench: GalleryScrollBench = {
  async mountGallery(total) {
    if (mounted) unmount(mounted);
    counters = { list: 0, thumbnails: 0 };
    const thumbnails = await Promise.all([0, 90, 180, 270].map(thumbnailPng));
    const api = {
      listGallery(query: OperationInput<'listGallery'>) {
        counters.list++;
        const offset = query.offset ?? 0;
        const items = Array.from({ length: Math.max(0, Math.min(query.limit ?? 60, total - offset)) }, (_, i) => summary(total, offset + i));
        return later({ items, total });
      },
      getImage({ id }: { id: number }) {
        counters.thumbnails++;
        return later(thumbnails[id % thumbnails.length]);
      },
    } as unknown as StudioApi;
    const gallery = new GalleryState(api);
    const root = document.getElementById('root')!;
    root.replaceChildren();
    mounted = mount(Gallery, { target: root, props: { gallery, models: [], toasts: new ToastState(), selectedId: null, onOpen: () => {} } });
    await gallery.refresh();
    flushSync();
  },
  scrollHeight() {
    return document.querySelector<HTMLElement>('[data-testid="gallery-grid"]')!.scrollHeight;
  },
  scroll(frames, pxPerFrame) {
    const scroller = document.querySelector<HTMLElement>('[data-testid="gallery-grid"]')!;
    scroller.scrollTop = 0;
    const intervals: number[] = [];
    const updates: number[] = [];
    return new Promise<ScrollRun>((resolve) => {
      let last: number | null = null;
      let n = 0;
      const step = (stamp: number) => {
        if (last !== null) intervals.push(stamp - last);
        last = stamp;
        if (n++ >= frames) {
          const items = scroller.querySelectorAll<HTMLElement>('[data-testid="gallery-item"]');
          resolve({
            frames: intervals, updates, rendered: items.length, firstRenderedId: items.length ? Number(items[0].dataset.id) : null,
            listCalls: counters.list, thumbnailCalls: counters.thumbnails,
          });
          return;
        }
        const start = performance.now();
        scroller.scrollTop += pxPerFrame;
        // The component's scroll handler, its update and the layout, now rather than at the
        // next frame's scroll event, so that their cost is measured here (the event then
        // finds nothing to change).
        scroller.dispatchEvent(new Event('scroll'));
        flushSync();
        void scroller.getBoundingClientRect();
        void (scroller.lastElementChild as HTMLElement | null)?.offsetTop;
        updates.push(performance.now() - start);
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
  },
};

(globalThis as unknown as { galleryScrollBench: GalleryScrollBench }).galleryScrollBench = bench;
