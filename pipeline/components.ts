// Every component of the reference pipeline, registered by name.

import { createBuffer } from "./buffer/buffer.ts";
import { createConfigService } from "./config/config-service.ts";
import type { Component, ComponentOptions } from "./core/component.ts";
import { createForwarder } from "./forwarder/forwarder.ts";
import { createPusher } from "./pusher/pusher.ts";
import { createSink } from "./sink/sink.ts";

export type ComponentFactory = (
  options: ComponentOptions & { settings: Record<string, unknown> },
) => Component;

export const COMPONENT_FACTORIES = {
  config: createConfigService,
  forwarder: createForwarder,
  buffer: createBuffer,
  pusher: createPusher,
  sink: createSink,
} satisfies Record<string, ComponentFactory>;

export type ComponentName = keyof typeof COMPONENT_FACTORIES;
export const COMPONENT_NAMES = Object.keys(COMPONENT_FACTORIES) as ComponentName[];

export function isComponentName(name: string): name is ComponentName {
  return Object.hasOwn(COMPONENT_FACTORIES, name);
}
