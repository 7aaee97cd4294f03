// The toxics of one proxy (after Toxiproxy's toxic_collection.go): kept in the order they were
// added, applied to the links of every live connection when added, updated or removed.
import { decodeFields } from "./json-body.ts";
import { toxicAlreadyExists, toxicNotFound } from "./errors.ts";
import type { Link } from "./link.ts";
import { decodeAttributes, type ToxicCreate } from "./requests.ts";
import type { Direction, ToxicType } from "./toxic.ts";

/** A toxic as configured on a proxy; immutable, replaced on update. */
export class ConfiguredToxic {
  readonly name: string;
  readonly type: ToxicType;
  /** As the client sent it (matched case-insensitively, echoed as sent). */
  readonly stream: string;
  readonly direction: Direction;
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;

  constructor(fields: Omit<ConfiguredToxic, "toJSON">) {
    this.name = fields.name;
    this.type = fields.type;
    this.stream = fields.stream;
    this.direction = fields.direction;
    this.toxicity = fields.toxicity;
    this.attributes = fields.attributes;
  }

  toJSON(): object {
    return {
      attributes: this.attributes,
      name: this.name,
      type: this.type.type,
      stream: this.stream,
      toxicity: this.toxicity,
    };
  }
}

const UPDATE_FIELDS = { attributes: "object", toxicity: "number" } as const;

export class ToxicCollection {
  private toxics: ConfiguredToxic[] = [];
  private readonly links = new Set<Link>();

  /** Upstream toxics first, then downstream ones, each in the order added (as Toxiproxy lists). */
  list(): ConfiguredToxic[] {
    return [...this.forDirection("upstream"), ...this.forDirection("downstream")];
  }

  forDirection(direction: Direction): ConfiguredToxic[] {
    return this.toxics.filter((toxic) => toxic.direction === direction);
  }

  get(name: string): ConfiguredToxic {
    const toxic = this.toxics.find((candidate) => candidate.name === name);
    if (toxic === undefined) throw toxicNotFound();
    return toxic;
  }

  add(request: ToxicCreate): ConfiguredToxic {
    if (this.toxics.some((toxic) => toxic.name === request.name)) throw toxicAlreadyExists();
    const zeros = Object.fromEntries(request.type.attributes.map((name) => [name, 0]));
    const toxic = new ConfiguredToxic({
      ...request,
      attributes: decodeAttributes(request.type, request.attributes, zeros),
    });
    this.toxics.push(toxic);
    this.forEachLink(toxic.direction, (link) => link.addToxic(toxic));
    return toxic;
  }

  /** Merges `body` (`{attributes?, toxicity?}`) into the toxic and restarts it on every link. */
  update(name: string, body: unknown): ConfiguredToxic {
    const current = this.get(name);
    const fields = decodeFields(body, UPDATE_FIELDS, "toxics.ToxicWrapper");
    const updated = new ConfiguredToxic({
      ...current,
      toxicity: fields.toxicity ?? current.toxicity,
      attributes: decodeAttributes(current.type, fields.attributes, current.attributes),
    });
    this.toxics = this.toxics.map((toxic) => (toxic === current ? updated : toxic));
    this.forEachLink(updated.direction, (link) => link.updateToxic(updated));
    return updated;
  }

  remove(name: string): void {
    const toxic = this.get(name);
    this.toxics = this.toxics.filter((candidate) => candidate !== toxic);
    this.forEachLink(toxic.direction, (link) => link.removeToxic(name));
  }

  removeAll(): void {
    for (const toxic of this.list()) this.remove(toxic.name);
  }

  attach(link: Link): void {
    this.links.add(link);
  }

  detach(link: Link): void {
    this.links.delete(link);
  }

  toJSON(): ConfiguredToxic[] {
    return this.list();
  }

  private forEachLink(direction: Direction, apply: (link: Link) => void): void {
    for (const link of [...this.links]) {
      if (link.direction === direction) apply(link);
    }
  }
}
