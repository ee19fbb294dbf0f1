declare module 'parse-prometheus-text-format' {
  /** Families in the prom2json shape: values are strings, as written. */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
