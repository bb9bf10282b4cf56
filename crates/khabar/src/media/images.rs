//! Turning an upload into something safe to publish: the type is read from
//! the bytes, the size from the header before anything is decoded (so a tiny
//! file that would inflate to gigabytes is refused), the picture is decoded,
//! turned upright and encoded afresh, which leaves every byte of metadata
//! (EXIF, GPS, XMP, comments) behind.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Widths of the responsive copies; only those narrower than the original are made.
pub const VARIANT_WIDTHS: [u32; 4] = [320, 640, 1024, 1600];
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
const MAX_SIDE: u32 = 12_000;
const MAX_PIXELS: u64 = 50_000_000;
/// Full-size copies are kept at most this wide: enough for any screen.
const MAX_STORED_WIDTH: u32 = 2400;
const JPEG_QUALITY: u8 = 85;
const VARIANT_QUALITY: u8 = 80;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("only JPEG, PNG and WebP images are accepted")]
    UnsupportedType,
    #[error("the image is {width}×{height} pixels; the limit is {MAX_SIDE} pixels a side and {MAX_PIXELS} in all")]
    TooLarge { width: u32, height: u32 },
    #[error("the file is not a readable image")]
    Unreadable,
    #[error("could not encode the image")]
    Encoding,
}

pub struct CleanImage {
    pub bytes: Vec<u8>,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    limits
}

/// Checks, decodes and re-encodes an upload. Meant for a blocking thread.
pub fn clean(upload: &[u8]) -> Result<CleanImage, ImageError> {
    let format = image::guess_format(upload).map_err(|_| ImageError::UnsupportedType)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) {
        return Err(ImageError::UnsupportedType);
    }
    let (width, height) =
        ImageReader::with_format(Cursor::new(upload), format).into_dimensions().map_err(|_| ImageError::Unreadable)?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(|_| ImageError::Unreadable)?;
    let orientation = decoder.orientation().map_err(|_| ImageError::Unreadable)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| ImageError::Unreadable)?;
    picture.apply_orientation(orientation);
    if picture.width() > MAX_STORED_WIDTH {
        picture = picture.resize(MAX_STORED_WIDTH, u32::MAX, image::imageops::FilterType::Lanczos3);
    }
    let keeps_transparency = picture.color().has_alpha() && format != ImageFormat::Jpeg;
    let (bytes, extension) =
        if keeps_transparency { (encode_png(&picture)?, "png") } else { (encode_jpeg(&picture, JPEG_QUALITY)?, "jpg") };
    Ok(CleanImage { bytes, extension, width: picture.width(), height: picture.height() })
}

fn encode_jpeg(picture: &DynamicImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let mut output = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut output, quality);
    picture.to_rgb8().write_with_encoder(encoder).map_err(|_| ImageError::Encoding)?;
    Ok(output)
}

fn encode_png(picture: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut output = Vec::new();
    picture.write_to(&mut Cursor::new(&mut output), ImageFormat::Png).map_err(|_| ImageError::Encoding)?;
    Ok(output)
}

/// The responsive copies of a cleaned image, as (width, JPEG bytes).
pub fn variants(clean_bytes: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, ImageError> {
    let mut reader =
        ImageReader::new(Cursor::new(clean_bytes)).with_guessed_format().map_err(|_| ImageError::Unreadable)?;
    reader.limits(limits());
    let picture = reader.decode().map_err(|_| ImageError::Unreadable)?;
    VARIANT_WIDTHS
        .iter()
        .filter(|width| **width < picture.width())
        .map(|width| {
            let smaller = picture.resize(*width, u32::MAX, image::imageops::FilterType::CatmullRom);
            encode_jpeg(&smaller, VARIANT_QUALITY).map(|bytes| (*width, bytes))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let picture = DynamicImage::new_rgb8(width, height);
        encode_jpeg(&picture, 80).unwrap()
    }

    /// A JPEG with an APP1 Exif segment carrying a GPS marker after the SOI.
    fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
        let plain = jpeg(width, height);
        let mut payload = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 33.5138 N".to_vec();
        payload.resize(64, 0);
        let length = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
        let mut with_exif = vec![0xFF, 0xD8, 0xFF, 0xE1, length[0], length[1]];
        with_exif.extend_from_slice(&payload);
        with_exif.extend_from_slice(&plain[2..]);
        with_exif
    }

    /// Just a PNG signature and a valid IHDR chunk: what a decompression bomb shows first.
    pub fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut chunk = b"IHDR".to_vec();
        chunk.extend_from_slice(&width.to_be_bytes());
        chunk.extend_from_slice(&height.to_be_bytes());
        chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut crc = flate2::Crc::new();
        crc.update(&chunk);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0d".to_vec();
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc.sum().to_be_bytes());
        // An empty IDAT: decoders read the header chunks up to the first IDAT.
        let mut idat = flate2::Crc::new();
        idat.update(b"IDAT");
        png.extend_from_slice(b"\0\0\0\0IDAT");
        png.extend_from_slice(&idat.sum().to_be_bytes());
        png
    }

    #[test]
    fn metadata_never_survives() {
        let upload = jpeg_with_exif(800, 600);
        assert!(upload.windows(11).any(|window| window == b"GPSLatitude"));
        let cleaned = clean(&upload).unwrap();
        assert!(!cleaned.bytes.windows(4).any(|window| window == b"Exif"));
        assert!(!cleaned.bytes.windows(3).any(|window| window == b"GPS"));
        assert_eq!((cleaned.width, cleaned.height, cleaned.extension), (800, 600, "jpg"));
    }

    #[test]
    fn other_types_and_bombs_are_refused() {
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert_eq!(clean(svg).err(), Some(ImageError::UnsupportedType));
        assert_eq!(clean(b"GIF89a....").err(), Some(ImageError::UnsupportedType));
        assert_eq!(clean(b"not an image at all").err(), Some(ImageError::UnsupportedType));
        // A PNG header claiming 30000×30000 pixels: refused before any decoding.
        assert_eq!(
            clean(&png_header(30_000, 30_000)).err(),
            Some(ImageError::TooLarge { width: 30_000, height: 30_000 })
        );
    }

    #[test]
    fn wide_images_are_kept_reasonable_and_get_smaller_copies() {
        let cleaned = clean(&jpeg(3000, 1500)).unwrap();
        assert_eq!((cleaned.width, cleaned.height), (2400, 1200));
        let copies = variants(&cleaned.bytes).unwrap();
        assert_eq!(copies.iter().map(|(width, _)| *width).collect::<Vec<_>>(), vec![320, 640, 1024, 1600]);
        let small = clean(&jpeg(500, 300)).unwrap();
        assert_eq!(variants(&small.bytes).unwrap().len(), 1, "only copies narrower than the original");
    }
}
