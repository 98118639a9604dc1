/**
 * An NGSI-LD entity before it is rendered: each attribute knows whether it is a Property or a GeoProperty,
 * when it was observed and in what unit, so that one value gives both the normalized and the simplified
 * (keyValues) representation (render.ts).
 */

export interface GeoPoint {
  type: 'Point';
  /** GeoJSON order: longitude, latitude */
  coordinates: [number, number];
}

export type Attribute =
  | {
      type: 'Property';
      value: unknown;
      /** epoch ms */
      observedAt?: number;
      unitCode?: string;
      /** the value is an instant (ISO string): normalized as `{ "@type": "DateTime", "@value" }` */
      dateTime?: boolean;
    }
  | { type: 'GeoProperty'; value: GeoPoint };

export interface Entity {
  id: string;
  type: string;
  /** The district the entity belongs to (what `q=district==…` matches); null for city-wide entities. */
  district: string | null;
  attributes: Record<string, Attribute>;
}

export const property = (
  value: unknown,
  extra: Omit<Extract<Attribute, { type: 'Property' }>, 'type' | 'value'> = {},
): Attribute => ({
  type: 'Property',
  value,
  ...extra,
});

export const instant = (ms: number): Attribute => ({
  type: 'Property',
  value: new Date(ms).toISOString(),
  dateTime: true,
});
