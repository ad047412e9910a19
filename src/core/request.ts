/** Request headers as Node spells them: lower-case names. */
export type HeaderBag = { readonly [name: string]: string | string[] | undefined }

/** What the request path needs to know of a request besides its body. */
export interface BodyRequest {
  readonly method: string
  /** The path without the query string. */
  readonly path: string
  /** Lower-case header names, as Node spells them. */
  readonly headers: HeaderBag
}
