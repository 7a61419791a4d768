// Starts the local engines the adapter and end-to-end tests talk to. Filled in with the store.
export default async function setup(): Promise<void> {}
