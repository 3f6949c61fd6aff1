// What the views' buttons do, filled in by main.js: the views call these without importing
// the modules that act (which import the views to render).
export const actions = {
  open: null,        // (kind, id): open a conversation
  back: null,        // (): back to the list of conversations (narrow screens)
  retract: null,     // (message): retract one's own message
  showImage: null,   // (url, alt): the full image
  olderHistory: null, // (): the page of history before the oldest message shown
};
