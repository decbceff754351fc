import { channel as diagnosticsChannel } from 'node:diagnostics_channel';

/** What the library reports about its work. Never carries token material. */
export type WimseEventName =
  | 'authenticated'
  | 'rejected'
  | 'replay'
  | 'cache.hit'
  | 'cache.miss'
  | 'bundle.updated'
  | 'bundle.stale'
  | 'bundle.refresh_failed';

/**
 * One event. Attribute names follow OpenTelemetry conventions where one exists
 * (`error.type`, `http.response.status_code`) and a `wimse.` namespace otherwise, so they
 * can be copied onto spans and metrics as they are.
 */
export interface WimseEvent {
  readonly name: WimseEventName;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
}

/** Receives events; exceptions it throws are swallowed so observability never breaks authentication. */
export type WimseEventListener = (event: WimseEvent) => void;

/** Prefix of the `diagnostics_channel` names: events are published on `wimse-auth:<event name>`. */
export const DIAGNOSTICS_CHANNEL_PREFIX = 'wimse-auth:';

const channels = new Map<WimseEventName, ReturnType<typeof diagnosticsChannel>>();
function channelOf(name: WimseEventName): ReturnType<typeof diagnosticsChannel> {
  let found = channels.get(name);
  if (found === undefined) {
    found = diagnosticsChannel(`${DIAGNOSTICS_CHANNEL_PREFIX}${name}`);
    channels.set(name, found);
  }
  return found;
}

/**
 * Emits events to a listener and to `diagnostics_channel`; costs one check when nobody listens.
 * Exported (as `WimseEventEmitter`) for bundle sources and adapters built outside core, so every
 * package publishes the same events the same way.
 */
export class EventEmitter {
  readonly #listener: WimseEventListener | undefined;

  constructor(listener?: WimseEventListener) {
    this.#listener = listener;
  }

  /**
   * `attributes` is only called when someone listens. Hot paths pass a module-level function
   * and its `subject` (or a constant object), so a request nobody observes allocates nothing.
   */
  emit<Subject>(
    name: WimseEventName,
    attributes: WimseEvent['attributes'] | ((subject: Subject) => WimseEvent['attributes']),
    subject?: Subject,
  ): void {
    const channel = channelOf(name);
    if (this.#listener === undefined && !channel.hasSubscribers) return;
    const event: WimseEvent = {
      name,
      attributes: typeof attributes === 'function' ? attributes(subject as Subject) : attributes,
    };
    if (this.#listener !== undefined) {
      try {
        this.#listener(event);
      } catch {
        // A failing listener must not turn an authentication decision into an error.
      }
    }
    if (channel.hasSubscribers) channel.publish(event);
  }
}
