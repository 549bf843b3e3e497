// Placeholder until the centrifuge-js connector lands (issue 4).
export function connectCentrifuge() {
  throw new Error('connectCentrifuge: not implemented yet')
}
