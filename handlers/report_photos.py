"""The words of a report's photo step: how to send, what was received, why a file was refused.

Photos reach the dialog as :class:`~handlers.types.Upload` items, already checked and kept
by the channel's intake (:mod:`bot.uploads`); the dialog gathers their ids until the officer
says "xong" (or the field's ``max_count`` is reached).
"""

from __future__ import annotations

from handlers.i18n import Tr
from handlers.types import Upload
from knowledge.forms import FormField
from storage.photo_check import Limits, Reason

DONE_WORDS = {
    "xong", "xong roi", "da xong", "gui xong", "het", "het roi", "du roi", "thoi", "vay thoi",
    "hoan thanh", "done", "finish", "finished", "that's all", "ok xong",
}  # fmt: skip
UNAVAILABLE = "unavailable"  # the platform did not hand the file over
UNKNOWN_SENDER = "unknown_sender"  # sent before the person registered
NOT_EXPECTED = "not_expected"  # no question wants a file now (nothing was fetched)
TOO_MANY = "too_many"  # too many photos sent and not yet attached to a report


def how_to_send(tr: Tr, item: FormField, have: int) -> str:
    if item.min_count > 1:
        need = tr(
            "Xin gửi ảnh chụp (hoặc tệp PDF) vào cuộc trò chuyện này: ít nhất {least}, "
            "tối đa {most} tệp.",
            least=item.min_count,
            most=item.max_count,
        )
    else:
        need = tr(
            "Xin gửi ảnh chụp (hoặc tệp PDF) vào cuộc trò chuyện này, tối đa {most} tệp.",
            most=item.max_count,
        )
    if have:
        return (
            need
            + " "
            + tr(
                "Đã có {count}: gửi thêm, gõ “xong” để giữ, hoặc “xóa ảnh” để gửi lại từ đầu.",
                count=have,
            )
        )
    return need + " " + tr("Gửi xong thì gõ “xong”.")


def refusal(tr: Tr, upload: Upload, limits: Limits) -> str:
    """Why one file was not kept, politely, with what to do instead."""
    what = tr("Tệp “{name}”", name=upload.name[:60]) if upload.name else tr("Ảnh vừa gửi")
    match upload.refused:
        case Reason.TOO_BIG:
            return tr(
                "{what} quá lớn (tối đa {mb} MB) nên không nhận. Xin gửi dạng ảnh (điện thoại "
                "tự thu nhỏ) hoặc chụp lại.",
                what=what,
                mb=limits.max_bytes // (1024 * 1024),
            )
        case Reason.NOT_ALLOWED:
            return tr(
                "{what} không phải ảnh (JPEG, PNG, WebP) hay tệp PDF nên không nhận.", what=what
            )
        case Reason.TOO_MANY_PIXELS:
            return tr(
                "{what} có quá nhiều điểm ảnh (trên {megapixels} triệu) nên không nhận. Xin "
                "gửi ảnh chụp bình thường từ điện thoại.",
                what=what,
                megapixels=limits.max_pixels // 1_000_000,
            )
        case Reason.UNREADABLE | Reason.EMPTY:
            return tr("{what} bị hỏng hoặc trống, không đọc được. Xin gửi lại.", what=what)
        case "too_many":
            return tr(
                "Bạn đã gửi nhiều ảnh chưa kèm báo cáo nào; xin gửi báo cáo (hoặc chờ vài ngày) "
                "rồi gửi tiếp."
            )
        case "not_expected" | "unknown_sender":
            return tr("Lúc này không có câu hỏi nào cần ảnh nên ảnh chưa được lưu.")
        case _:
            return tr(
                "Chưa tải được {what} từ máy chủ của ứng dụng nhắn tin; xin gửi lại sau ít phút.",
                what=what.lower() if not upload.name else what,
            )
