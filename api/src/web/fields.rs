//! Form fields as views render them: one typed context per field (name, id, label, value,
//! hint, error and how they are tied together for assistive technology), so that every field
//! of every form is rendered by the one `partials/field` view the same accessible way.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::FieldError;

/// The field errors of a form, by field name.
#[derive(Debug, Clone, Default)]
pub struct Errors(HashMap<String, Vec<String>>);

impl Errors {
    /// Adds an error on `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    /// Adds errors from a conversion.
    pub fn extend(&mut self, errors: impl IntoIterator<Item = FieldError>) {
        for error in errors {
            self.add(error.field, error.message);
        }
    }

    /// The message of `field`, all its errors joined.
    pub fn of(&self, field: &str) -> Option<String> {
        self.0.get(field).map(|messages| messages.join(" "))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many fields have errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// A choice of a select.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// Submitted value.
    pub value: String,
    /// What people read.
    pub label: String,
    /// Whether it is the current one.
    pub selected: bool,
}

/// One form field.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// The submitted name.
    pub name: String,
    /// The element id (also the base of the hint's and error's ids).
    pub id: String,
    /// The label.
    pub label: String,
    /// The value typed (or stored).
    pub value: String,
    /// A hint under the label, or null.
    pub hint: Option<String>,
    /// The hint's element id.
    pub hint_id: String,
    /// What is wrong with the value, or null.
    pub error: Option<String>,
    /// The error's element id.
    pub error_id: String,
    /// The ids `aria-describedby` names (hint and error), or null.
    pub describedby: Option<String>,
    /// `<input type>` for inputs.
    pub input_type: &'static str,
    /// A multi-line text.
    pub is_textarea: bool,
    /// A select.
    pub is_select: bool,
    /// A checkbox.
    pub is_checkbox: bool,
    /// Whether the checkbox is checked.
    pub checked: bool,
    /// The choices of a select.
    pub choices: Vec<Choice>,
    /// `autocomplete`, or null.
    pub autocomplete: Option<&'static str>,
    /// `inputmode`, or null.
    pub inputmode: Option<&'static str>,
    /// An example value, or null.
    pub placeholder: Option<String>,
}

/// An element id from a field name: letters, digits and dashes only.
pub fn id_of(name: &str) -> String {
    let mut id = String::from("f-");
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
            dash = false;
        } else if !dash {
            id.push('-');
            dash = true;
        }
    }
    id.trim_end_matches('-').to_owned()
}

impl Field {
    /// A one-line text input.
    pub fn text(name: &str, label: &str, value: &str, errors: &Errors) -> Self {
        let id = id_of(name);
        let mut field = Self {
            name: name.to_owned(),
            hint_id: format!("{id}-hint"),
            error_id: format!("{id}-error"),
            id,
            label: label.to_owned(),
            value: value.to_owned(),
            hint: None,
            error: errors.of(name),
            describedby: None,
            input_type: "text",
            is_textarea: false,
            is_select: false,
            is_checkbox: false,
            checked: false,
            choices: Vec::new(),
            autocomplete: None,
            inputmode: None,
            placeholder: None,
        };
        field.tie();
        field
    }

    /// A multi-line text.
    pub fn textarea(name: &str, label: &str, value: &str, errors: &Errors) -> Self {
        Self {
            is_textarea: true,
            ..Self::text(name, label, value, errors)
        }
    }

    /// A checkbox, submitted as `true` when checked.
    pub fn checkbox(name: &str, label: &str, checked: bool, errors: &Errors) -> Self {
        Self {
            is_checkbox: true,
            checked,
            input_type: "checkbox",
            ..Self::text(name, label, "true", errors)
        }
    }

    /// A select of `(value, label)` choices.
    pub fn select(
        name: &str,
        label: &str,
        value: &str,
        choices: &[(&str, &str)],
        errors: &Errors,
    ) -> Self {
        Self {
            is_select: true,
            choices: choices
                .iter()
                .map(|(v, l)| Choice {
                    value: (*v).to_owned(),
                    label: (*l).to_owned(),
                    selected: *v == value,
                })
                .collect(),
            ..Self::text(name, label, value, errors)
        }
    }

    /// With a hint.
    pub fn hint(mut self, hint: &str) -> Self {
        self.hint = Some(hint.to_owned());
        self.tie();
        self
    }

    /// With an `<input type>`.
    pub fn kind(mut self, input_type: &'static str) -> Self {
        self.input_type = input_type;
        self
    }

    /// With an `autocomplete` token.
    pub fn autocomplete(mut self, token: &'static str) -> Self {
        self.autocomplete = Some(token);
        self
    }

    /// With an `inputmode`.
    pub fn inputmode(mut self, mode: &'static str) -> Self {
        self.inputmode = Some(mode);
        self
    }

    /// With an example value.
    pub fn placeholder(mut self, example: &str) -> Self {
        self.placeholder = Some(example.to_owned());
        self
    }

    fn tie(&mut self) {
        let ids: Vec<&str> = [
            self.hint.as_ref().map(|_| self.hint_id.as_str()),
            self.error.as_ref().map(|_| self.error_id.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.describedby = (!ids.is_empty()).then(|| ids.join(" "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_with_an_error_names_its_hint_and_error_for_screen_readers() {
        let mut errors = Errors::default();
        errors.add("workflows[0].syncWindow", "is not a time window");
        let field = Field::text("workflows[0].syncWindow", "Sync window", "25:00", &errors)
            .hint("hh:mm-hh:mm, UTC");
        assert_eq!(field.id, "f-workflows-0-syncWindow");
        assert_eq!(
            field.describedby.as_deref(),
            Some("f-workflows-0-syncWindow-hint f-workflows-0-syncWindow-error")
        );
        assert_eq!(field.value, "25:00", "the typed value is kept");
        let clean = Field::text("integration.name", "Name", "", &errors);
        assert_eq!(clean.describedby, None);
    }
}
