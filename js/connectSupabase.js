// Placeholder until the supabase-js connector lands (issue 4).
export function connectSupabase() {
  throw new Error('connectSupabase: not implemented yet')
}
