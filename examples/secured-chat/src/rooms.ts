/** The chat's rooms, and the scope each one needs. */
export const ROOMS = Object.freeze([
  { name: 'general', scope: 'chat' },
  { name: 'random', scope: 'chat' },
  { name: 'admins', scope: 'admin' },
] as const)

export type RoomName = typeof ROOMS[number]['name']

/** Every socket of the chat needs this scope; rooms may need more. */
export const CHAT_SCOPE = 'chat'

const scopeOf = new Map<string, string>(ROOMS.map((room) => [room.name, room.scope]))

export function isRoom (name: string): name is RoomName {
  return scopeOf.has(name)
}

export function mayEnter (scopes: readonly string[], room: RoomName): boolean {
  return scopes.includes(scopeOf.get(room)!)
}

/** The room list as a user sees it: each room, and whether their scopes let them in. */
export function roomsFor (scopes: readonly string[]): Array<{ name: RoomName, allowed: boolean }> {
  return ROOMS.map((room) => ({ name: room.name, allowed: mayEnter(scopes, room.name) }))
}
