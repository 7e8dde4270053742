import * as tf from '@tensorflow/tfjs-core';
import type { ConvGeometry, ConvGradRunner, WinogradDirection } from './conv-grad-kernels';
import { heapMemory, type HeapMemory } from './heap-view';

/** The most memory the transforms of one backend keep (LRU beyond it). */
const CACHE_BYTES = 64 * 1024 * 1024;

interface Entry {
  readonly filter: tf.DataId;
  readonly direction: WinogradDirection;
  readonly info: tf.TensorInfo;
  readonly bytes: number;
}

/**
 * Winograd transforms of filters that convolutions used more than once (a frozen network's forward
 * and input-gradient passes, every call of a saliency method), kept in the wasm memory so that a
 * call skips the transform: with 128 channels it costs about as much as a 4-image forward.
 *
 * A tensor's data never changes in tfjs (an assigned variable gets a new data id), so a filter is
 * known by its data id. A transform is kept from a filter's second use in a direction on (a
 * training step's filters are used once per direction and are never kept); entries whose filter
 * was disposed are freed on the next insertion; at most {@link CACHE_BYTES}, least recently used
 * first out. A transform is the same function of the filter either way, so results do not change.
 */
class WinogradFilterCache {
  private readonly seen: Record<WinogradDirection, WeakSet<tf.DataId>> = { forward: new WeakSet(), input: new WeakSet() };
  private readonly byFilter = new Map<tf.DataId, Partial<Record<WinogradDirection, Entry>>>();
  private readonly lru = new Set<Entry>();
  private total = 0;

  constructor(private readonly heap: HeapMemory) {}

  /** The byte offset of the kept transform of `filter` for `g` and a direction, or `undefined` (first use, too large, or no Winograd). */
  prepared(runner: ConvGradRunner, filter: tf.TensorInfo, g: ConvGeometry, direction: WinogradDirection): number | undefined {
    const floats = runner.winogradFilterSize(g, direction);
    const hit = this.byFilter.get(filter.dataId)?.[direction];
    // A kept transform of another size is of the other Winograd form (the algorithm changed since).
    if (hit && hit.bytes !== 4 * floats) this.drop(hit);
    else if (hit) {
      this.lru.delete(hit);
      this.lru.add(hit);
      return this.heap.offset(hit.info);
    }
    if (floats === 0 || 4 * floats > CACHE_BYTES) return undefined;
    if (!this.seen[direction].has(filter.dataId)) {
      this.seen[direction].add(filter.dataId);
      return undefined;
    }
    this.sweep();
    while (this.total + 4 * floats > CACHE_BYTES) this.drop(this.lru.values().next().value as Entry);
    const info = this.heap.makeOutput([floats], 'float32');
    runner.winogradFilter(this.heap.offset(filter), this.heap.offset(info), g, direction);
    const entry: Entry = { filter: filter.dataId, direction, info, bytes: 4 * floats };
    this.byFilter.set(filter.dataId, { ...this.byFilter.get(filter.dataId), [direction]: entry });
    this.lru.add(entry);
    this.total += entry.bytes;
    return this.heap.offset(info);
  }

  /** Entries kept and their bytes. */
  stats(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.total };
  }

  /** Frees every entry. */
  clear(): void {
    for (const e of this.lru) this.drop(e);
  }

  /** Frees the entries whose filter the backend no longer holds. */
  private sweep(): void {
    for (const e of this.lru) if (!this.heap.holds(e.filter)) this.drop(e);
  }

  private drop(e: Entry): void {
    this.lru.delete(e);
    this.total -= e.bytes;
    const slots = this.byFilter.get(e.filter);
    if (slots) {
      delete slots[e.direction];
      if (!slots.forward && !slots.input) this.byFilter.delete(e.filter);
    }
    this.heap.release(e.info);
  }
}

const caches = new WeakMap<WebAssembly.Memory, WinogradFilterCache>();

/** The transform cache of a wasm backend's memory (one per memory). */
export function winogradFilterCacheFor(heap: HeapMemory): WinogradFilterCache {
  let cache = caches.get(heap.memory);
  if (!cache) caches.set(heap.memory, (cache = new WinogradFilterCache(heap)));
  return cache;
}

/**
 * What the active wasm backend keeps of Winograd filter transforms (filters a convolution used more
 * than once): entries and bytes of wasm memory (not counted by `tf.memory()`); `undefined` off wasm.
 */
export function winogradFilterCacheStats(): { entries: number; bytes: number } | undefined {
  return currentCache()?.stats();
}

/** Frees every Winograd filter transform the active wasm backend keeps (they are rebuilt on demand). */
export function clearWinogradFilterCache(): void {
  currentCache()?.clear();
}

function currentCache(): WinogradFilterCache | undefined {
  const heap = heapMemory(tf.backend());
  return heap ? caches.get(heap.memory) : undefined;
}
