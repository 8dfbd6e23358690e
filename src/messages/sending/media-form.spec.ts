import { mimetypeAllowed } from './media-form';

describe('mimetypeAllowed', () => {
  it('takes an exact type, a type/* wildcard and */*', () => {
    expect(mimetypeAllowed('image/png', ['image/jpeg', 'image/png'])).toBe(true);
    expect(mimetypeAllowed('image/gif', ['image/jpeg', 'image/png'])).toBe(false);
    expect(mimetypeAllowed('audio/ogg', ['audio/*'])).toBe(true);
    expect(mimetypeAllowed('video/mp4', ['audio/*'])).toBe(false);
    expect(mimetypeAllowed('application/pdf', ['*/*'])).toBe(true);
    expect(mimetypeAllowed('', ['image/png'])).toBe(false);
  });
});
