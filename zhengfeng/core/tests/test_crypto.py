import pytest

from zhengfeng.core import crypto


def test_encrypt_round_trip_and_random_nonce():
    first = crypto.encrypt_text("13812345678")
    second = crypto.encrypt_text("13812345678")

    assert first.startswith("sm4gcm:v1:")
    assert first != second
    assert crypto.decrypt_text(first) == "13812345678"


def test_decrypt_rejects_altered_ciphertext():
    token = crypto.encrypt_text("张三")
    body = token[len(crypto.CIPHER_PREFIX) :]
    altered = crypto.CIPHER_PREFIX + ("A" if body[0] != "A" else "B") + body[1:]

    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(altered)


def test_blind_index_matches_equal_values_after_normalising():
    assert crypto.blind_index("138 1234-5678") == crypto.blind_index("13812345678")
    assert crypto.blind_index("44180219900101123x") == crypto.blind_index("44180219900101123X")
    assert crypto.blind_index("13812345678") != crypto.blind_index("13812345679")
    assert len(crypto.blind_index("13812345678")) == 64


def test_blind_index_depends_on_the_key(settings):
    before = crypto.blind_index("13812345678")
    settings.FIELD_ENCRYPTION_KEY = "another-key-of-sufficient-length"

    assert crypto.blind_index("13812345678") != before


@pytest.mark.parametrize(
    ("function", "value", "masked"),
    [
        (crypto.mask_phone, "13812345678", "138****5678"),
        (crypto.mask_phone, "07633362187", "076****2187"),
        (crypto.mask_phone, "3362187", "***2187"),
        (crypto.mask_name, "张三", "张*"),
        (crypto.mask_name, "欧阳修文", "欧***"),
        (crypto.mask_name, "李", "李*"),
        (crypto.mask_id_number, "44180219900101123X", "4418**********123X"),
    ],
)
def test_masks(function, value, masked):
    assert function(value) == masked


def test_sm3_matches_the_standard_test_vector():
    # GB/T 32905-2016 example 1: SM3("abc").
    assert crypto.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
