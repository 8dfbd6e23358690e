import { toDataURL } from 'qrcode';

/** The QR payload as a PNG data URL (error correction M, as WhatsApp Web renders it). */
export function renderQrPng(payload: string): Promise<string> {
  return toDataURL(payload, { errorCorrectionLevel: 'M', margin: 2, scale: 6, type: 'image/png' });
}
