"""Test fixtures: a small XLM-R-style tokenizer trained on the fly (the study itself uses the real one)."""

from __future__ import annotations

from typing import Sequence

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from helpers.tatoeba import FALLBACK_SENTENCES  # noqa: F401 - re-exported for the tests
from studytools.bench import xlmr_shaped_model  # noqa: F401 - re-exported for the tests


def train_tokenizer(texts: Sequence[str], vocab_size: int = 400):
    """A small XLM-R-style (unigram, <s> </s> <pad>) fast tokenizer trained on ``texts``."""
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>")
    tok.train_from_iterator(list(texts), trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", mask_token="<mask>", cls_token="<s>", sep_token="</s>")
