import { QuerywireDevtools } from 'querywire/devtools'

// Records from its first render on (the test ingests after loading it).
export default function Devtools() {
  return <QuerywireDevtools />
}
