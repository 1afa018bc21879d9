import { CloudEvent, HTTP } from 'cloudevents';
import type { OutboxEvent } from '../meta/event-records.ts';

/**
 * An outbox event as a CloudEvents 1.0 structured-mode HTTP message (the cloudevents library
 * does the encoding and validation): `id` is the event's UUID, so a receiver can drop
 * duplicates of an at-least-once delivery; `source` the instance URL; `subject` what the event is
 * about (`<repository>/<image>` for image events); `data` the payload.
 */
export function structuredMessage(
  event: OutboxEvent,
  source: string,
): { headers: Record<string, string>; body: string } {
  const cloudEvent = new CloudEvent({
    specversion: '1.0',
    id: event.eventId,
    type: event.type,
    source,
    subject: event.subject,
    time: event.at,
    datacontenttype: 'application/json',
    data: event.data,
    gantrysequence: String(event.id),
  });
  const message = HTTP.structured(cloudEvent);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name.toLowerCase()] = String(value);
  return { headers, body: String(message.body) };
}
