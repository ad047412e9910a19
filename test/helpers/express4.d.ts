// Express 4 is installed under an alias so both majors run in one suite; its API is the
// subset of Express 5's that the tests use, so it borrows Express 5's types.
declare module 'express4' {
  import express from 'express'
  export default express
}
