/**
 * The served studio's launch token: it arrives in the URL (`#token=...`), is kept in
 * sessionStorage so reloads work, and is removed from the visible URL.
 */
const KEY = 'split-studio.token';

interface Place {
  hash: string;
  pathname: string;
  search: string;
}

export function takeToken(place: Place, storage: Pick<Storage, 'getItem' | 'setItem'> | null, history: Pick<History, 'replaceState' | 'state'> | null): string | null {
  const params = new URLSearchParams(place.hash.replace(/^#/, ''));
  const fromUrl = params.get('token');
  if (fromUrl) {
    try {
      storage?.setItem(KEY, fromUrl);
    } catch {
      // storage disabled: the token still works for this page's lifetime
    }
    params.delete('token');
    const rest = params.toString();
    history?.replaceState(history.state, '', `${place.pathname}${place.search}${rest ? `#${rest}` : ''}`);
    return fromUrl;
  }
  try {
    return storage?.getItem(KEY) ?? null;
  } catch {
    return null;
  }
}

export function socketUrl(place: { protocol: string; host: string }, token: string): string {
  return `${place.protocol === 'https:' ? 'wss:' : 'ws:'}//${place.host}/ws?token=${encodeURIComponent(token)}`;
}
