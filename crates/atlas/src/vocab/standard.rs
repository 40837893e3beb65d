//! The `standard` vocabulary: stack manipulation, variables, lists as programs, `:format`.
//!
//! Design decision: each word's code reads its arguments with `peek` and changes the stack only
//! once nothing can fail any more, so an error shows the stack as the word found it.

use crate::interpreter::{Context, Fail};
use crate::item::Item;
use crate::vocab::format::format;
use crate::word::{Param, Vocabulary, Word};

/// The `standard` vocabulary, in Atlas's order.
pub static STANDARD: Vocabulary = Vocabulary {
    name: "standard",
    words: &[
        CALL,
        CLEAR,
        DEPTH,
        DROP,
        DUP,
        EACH,
        FORMAT,
        FREEZE,
        GET,
        PICK,
        MAP,
        NDROP,
        NLIST,
        OVER,
        REVERSE_ROT,
        ROLL,
        ROT,
        SET,
        SWAP,
        LIST,
        TWO_OVER,
        NIP,
        TUCK,
        FCALL,
        SSET,
    ],
};

const fn native(
    name: &'static str,
    params: &'static [Param],
    signature: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
    code: fn(&mut Context<'_>) -> Result<(), Fail>,
) -> Word {
    Word::native("standard", name, params, signature, summary, examples, code)
}

const fn macro_word(
    name: &'static str,
    params: &'static [Param],
    signature: &'static str,
    summary: &'static str,
    examples: &'static [&'static str],
    body: &'static [&'static str],
) -> Word {
    Word::macro_of("standard", name, params, signature, summary, examples, body)
}

const CALL: Word = native(
    "call",
    &[Param::List],
    "program:List -- ?",
    "Pop a list off the stack and execute it as a program.",
    &["(,a,)"],
    |ctx| {
        let program = ctx.peek_list(0)?.clone();
        ctx.pop()?;
        ctx.call(&program)
    },
);

const CLEAR: Word = native("clear", &[], "* -- <empty>", "Remove all items from the stack.", &["a,b,c"], |ctx| {
    ctx.stack.clear();
    Ok(())
});

const DEPTH: Word =
    native("depth", &[], "* -- * count:Int", "Push the depth of the stack.", &["", "a", "a,b"], |ctx| {
        let depth = ctx.stack.len().to_string();
        Ok(ctx.push(Item::Str(depth))?)
    });

const DROP: Word =
    native("drop", &[Param::Any], "a -- ", "Remove the item on the top of the stack.", &["a,b,c", "ERROR:"], |ctx| {
        ctx.pop()?;
        Ok(())
    });

const DUP: Word = native(
    "dup",
    &[Param::Any],
    "a -- a a",
    "Duplicate the item on the top of the stack.",
    &["a", "a,b", "ERROR:"],
    |ctx| {
        let top = ctx.peek(0)?.clone();
        Ok(ctx.push(top)?)
    },
);

const EACH: Word = native(
    "each",
    &[Param::List, Param::List],
    "items:List f:List -- f(items[N-1]) ... f(items[0])",
    "For each item in a list push it on the stack and apply a function.",
    &["(,a,b,),(,:dup,)"],
    |ctx| {
        let function = ctx.peek_list(0)?.clone();
        let items = ctx.peek_list(1)?.clone();
        ctx.stack.truncate(ctx.stack.len() - 2);
        // As in Atlas: last element first, so a list made by `:list` (top of stack first) is
        // processed bottom up and its results keep the stack's order.
        for item in items.items().iter().rev() {
            ctx.push(item.clone())?;
            ctx.call(&function)?;
        }
        Ok(())
    },
);

const FORMAT: Word = native(
    "format",
    &[Param::Str, Param::List],
    "pattern:String args:List -- String",
    "Format a string using a printf [style pattern][formatter].",
    &["foo%s,(,bar,)"],
    |ctx| {
        let args = ctx.peek_list(0)?.clone();
        let text = format(ctx.peek_str(1)?, args.items(), ctx.max_string_bytes())?;
        ctx.charge(text.len())?;
        ctx.stack.truncate(ctx.stack.len() - 2);
        Ok(ctx.push(Item::Str(text))?)
    },
);

const FREEZE: Word = native(
    "freeze",
    &[],
    "* -- <empty>",
    "Freeze removes all data from the stack and pushes it to a separate frozen stack that cannot be modified other \
     than to push additional items using the freeze operation.",
    &["a,b,c"],
    |ctx| {
        let moved = std::mem::take(&mut ctx.stack);
        ctx.frozen.extend(moved);
        ctx.variables = ctx.initial_variables.clone();
        Ok(())
    },
);

const GET: Word = native(
    "get",
    &[Param::Str],
    "k:String -- v",
    "Get the value of a variable and push it on the stack.",
    &["k,v,:set,k"],
    |ctx| {
        let key = ctx.peek_str(0)?;
        let value = ctx.variables.get(key).cloned().ok_or_else(|| crate::Reason::UnknownVariable(key.to_string()))?;
        ctx.pop()?;
        Ok(ctx.push(value)?)
    },
);

/// The stack index of the item `n` places below the integer on top, if there is one.
fn index_below_top(ctx: &Context<'_>) -> Result<usize, Fail> {
    let n = ctx.peek_int(0)?;
    let depth = ctx.stack.len() - 1;
    usize::try_from(n)
        .ok()
        .and_then(|n| depth.checked_sub(n + 1))
        .ok_or(Fail::Here(crate::Reason::IndexOutOfRange { index: n, depth }))
}

const PICK: Word = native(
    "pick",
    &[Param::Any, Param::Int],
    "aN ... a0 N -- aN ... a0 aN",
    "Pick an item in the stack and put a copy on the top.",
    &["a,0", "a,b,0", "a,b,1", "ERROR:a"],
    |ctx| {
        let index = index_below_top(ctx)?;
        let item = ctx.stack.get(index).cloned().ok_or(crate::Reason::NoResult)?;
        ctx.pop()?;
        Ok(ctx.push(item)?)
    },
);

const MAP: Word = native(
    "map",
    &[Param::List, Param::List],
    "items:List f:List -- List(f(items[0]) ... f(items[N-1]))",
    "Create a new list by applying a function to all elements of a list.",
    &["(,a%s,b%s,),(,(,.netflix.com,),:format,)"],
    |ctx| {
        let function = ctx.peek_list(0)?.clone();
        let items = ctx.peek_list(1)?.clone();
        ctx.stack.truncate(ctx.stack.len() - 2);
        let mut results = Vec::with_capacity(items.items().len());
        for item in items.items() {
            ctx.push(item.clone())?;
            ctx.call(&function)?;
            results.push(ctx.stack.pop().ok_or(crate::Reason::NoResult)?);
        }
        Ok(ctx.push_list(results)?)
    },
);

/// The count on top of the stack for `:ndrop` and `:nlist`: negative counts as 0, and more
/// than the items below counts as all of them, as in Atlas.
fn count_below_top(ctx: &Context<'_>) -> Result<usize, Fail> {
    let n = ctx.peek_int(0)?;
    Ok(usize::try_from(n).unwrap_or(0).min(ctx.stack.len() - 1))
}

const NDROP: Word = native(
    "ndrop",
    &[Param::Int],
    "aN ... a0 N -- aN",
    "Remove the top N items on the stack.",
    &["a,0", "a,b,c,2", "a,b,c,4", "ERROR:"],
    |ctx| {
        let n = count_below_top(ctx)?;
        ctx.stack.truncate(ctx.stack.len() - 1 - n);
        Ok(())
    },
);

const NLIST: Word = native(
    "nlist",
    &[Param::Int],
    "aN ... a0 N -- aN List(aN-1 ... a0)",
    "Create a list with the top N items on the stack.",
    &["a,0", "a,b,c,2", "a,b,c,4", "ERROR:"],
    |ctx| {
        let n = count_below_top(ctx)?;
        ctx.pop()?;
        let items = ctx.stack.split_off(ctx.stack.len() - n);
        Ok(ctx.push_list(items)?)
    },
);

const OVER: Word = native(
    "over",
    &[Param::Any, Param::Any],
    "a b -- a b a",
    "Copy the item in the second position on the stack to the top.",
    &["a,b"],
    |ctx| {
        let second = ctx.peek(1)?.clone();
        Ok(ctx.push(second)?)
    },
);

const REVERSE_ROT: Word = native(
    "-rot",
    &[Param::Any],
    "* a b -- b * a",
    "Rotate the stack so that the item at the top is now at the bottom.",
    &["a,b,c,d"],
    |ctx| {
        let top = ctx.pop()?;
        ctx.stack.insert(0, top);
        Ok(())
    },
);

const ROLL: Word = native(
    "roll",
    &[Param::Any, Param::Int],
    "aN ... a0 N -- aN-1 ... a0 aN",
    "Rotate an item in the stack and put it on the top.",
    &["a,0", "a,b,0", "a,b,1", "ERROR:a"],
    |ctx| {
        let index = index_below_top(ctx)?;
        ctx.pop()?;
        let item = ctx.stack.remove(index);
        ctx.stack.push(item);
        Ok(())
    },
);

const ROT: Word = native(
    "rot",
    &[Param::Any],
    "a ... b -- ... b a",
    "Rotate the stack so that the item at the bottom is now at the top.",
    &["a,b,c,d"],
    |ctx| {
        let bottom = ctx.stack.remove(0);
        ctx.stack.push(bottom);
        Ok(())
    },
);

const SET: Word =
    native("set", &[Param::Str, Param::Any], "k:String v -- ", "Set the value of a variable.", &["k,v"], |ctx| {
        let key = ctx.peek_str(1)?.to_string();
        let value = ctx.pop()?;
        ctx.pop()?;
        ctx.variables.insert(key, value);
        Ok(())
    });

const SWAP: Word =
    native("swap", &[Param::Any, Param::Any], "a b -- b a", "Swap the top two items on the stack.", &["a,b"], |ctx| {
        let len = ctx.stack.len();
        ctx.stack.swap(len - 1, len - 2);
        Ok(())
    });

const LIST: Word =
    native("list", &[], "* -- List(*)", "Pop all items off the stack and push them as a list.", &["a,b", ""], |ctx| {
        // As in Atlas, the top of the stack becomes the first element.
        let mut items = std::mem::take(&mut ctx.stack);
        items.reverse();
        Ok(ctx.push_list(items)?)
    });

const TWO_OVER: Word = macro_word(
    "2over",
    &[Param::Any, Param::Any],
    "a b -- a b a b",
    "Copy the top two items: `a b -- a b a b`.",
    &["a,b"],
    &[":over", ":over"],
);

const NIP: Word = macro_word(
    "nip",
    &[Param::Any, Param::Any],
    "a b -- b",
    "Remove the second item: `a b -- b`.",
    &["a,b"],
    &[":swap", ":drop"],
);

const TUCK: Word = macro_word(
    "tuck",
    &[Param::Any, Param::Any],
    "a b -- b a b",
    "Copy the top below the second: `a b -- b a b`.",
    &["a,b"],
    &[":swap", ":over"],
);

const FCALL: Word = macro_word(
    "fcall",
    &[Param::Str],
    "k:String -- ?",
    "Shorthand macro (List(\":get\", \":call\"))",
    &["duplicate,(,:dup,),:set,a,duplicate"],
    &[":get", ":call"],
);

const SSET: Word = macro_word(
    "sset",
    &[Param::Any, Param::Str],
    "v k:String -- ",
    "Set a variable: shorthand for `:swap :set`.",
    &["a,b"],
    &[":swap", ":set"],
);

#[cfg(test)]
mod tests {
    use crate::Interpreter;
    use crate::item::render_capped;

    fn run(program: &str) -> String {
        match Interpreter::default().execute(program) {
            Ok(stack) => render_capped(&stack, 10_000),
            Err(e) => format!("ERROR: {e}"),
        }
    }

    #[test]
    fn stack_shuffling_matches_atlas() {
        let cases = [
            ("a,b,c,:clear", ""),
            (":depth", "0"),
            ("a,b,:depth", "a,b,2"),
            ("a,b,c,:drop", "a,b"),
            ("a,b,:dup", "a,b,b"),
            ("a,b,:over", "a,b,a"),
            ("a,b,:swap", "b,a"),
            ("a,b,c,d,:rot", "b,c,d,a"),
            ("a,b,c,d,:-rot", "d,a,b,c"),
            ("a,b,0,:pick", "a,b,b"),
            ("a,b,1,:pick", "a,b,a"),
            ("a,b,1,:roll", "b,a"),
            ("a,b,0,:roll", "a,b"),
            ("a,b,c,2,:ndrop", "a"),
            ("a,b,c,4,:ndrop", ""),
            ("a,b,c,2,:nlist", "a,(,b,c,)"),
            ("a,b,c,4,:nlist", "(,a,b,c,)"),
            ("a,b,:list", "(,b,a,)"),
            (":list", "(,)"),
            ("a,b,:2over", "a,b,a,b"),
            ("a,b,:nip", "b"),
            ("a,b,:tuck", "b,a,b"),
        ];
        for (program, expected) in cases {
            assert_eq!(run(program), expected, "{program}");
        }
    }

    #[test]
    fn lists_run_as_programs() {
        assert_eq!(run("(,a,),:call"), "a");
        assert_eq!(run("b,(,a,:swap,),:call"), "a,b");
        assert_eq!(run("(,a,b,),(,:dup,),:each"), "b,b,a,a");
        assert_eq!(run("x,y,:list,(,:dup,),:each"), "x,x,y,y");
        assert_eq!(run("(,a%s,b%s,),(,(,.netflix.com,),:format,),:map"), "(,a.netflix.com,b.netflix.com,)");
        assert_eq!(run("duplicate,(,:dup,),:set,a,duplicate,:fcall"), "a,a");
        assert_eq!(run("a,b,:sset,b,:get"), "a");
        assert_eq!(run("k,v,:set,k,:get,k,:get"), "v,v");
    }

    #[test]
    fn failures_name_the_reason() {
        assert!(run("a,1,:pick").contains("index 1 is out of range for a stack of 1 items"), "{}", run("a,1,:pick"));
        assert!(run("a,-1,:roll").contains("index -1 is out of range"));
        assert!(run("(,a,),(,:drop,),:map").contains("the function left no result"));
        assert!(run("nope,:get").contains("variable \"nope\" is not set"));
        assert!(run(":ndrop").contains(":ndrop at byte 0: stack underflow"));
        assert!(run("a,b,:ndrop").contains("wrong item types"));
    }
}
