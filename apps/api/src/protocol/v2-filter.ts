import type { StreamEventsBody } from "@runline/core";
import { channelOf, type V2Event } from "./v2-event";

/**
 * The server-side filter of one `/stream/events` connection, by the protocol's rules: `channels` is a set
 * (`custom` also selects every `custom:<name>`); `namespaces` are prefixes, where a segment `name` also matches
 * `name:<task id>`; `depth` is how many segments below the prefix are let through; `since` is exclusive.
 */
export function createEventFilter(body: StreamEventsBody): (event: V2Event) => boolean {
  const channels = new Set(body.channels);
  const { namespaces, depth, since } = body;
  return (event) => {
    if (since !== undefined && event.seq <= since) return false;
    const channel = channelOf(event);
    if (!channels.has(channel) && !(channel.startsWith("custom:") && channels.has("custom"))) return false;
    if (!namespaces || namespaces.length === 0) return true;
    const ns = event.params.namespace;
    return namespaces.some((prefix) => isPrefix(prefix, ns) && (depth === undefined || ns.length - prefix.length <= depth));
  };
}

function isPrefix(prefix: string[], ns: string[]): boolean {
  if (prefix.length > ns.length) return false;
  return prefix.every((segment, i) => ns[i] === segment || ns[i]!.startsWith(`${segment}:`));
}
